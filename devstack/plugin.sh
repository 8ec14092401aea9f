#!/bin/bash
#
# devstack/plugin.sh: the Blazar devstack plugin.
#
# Installs Blazar, creates its database, its Keystone service user, the
# 'reservation' service and its endpoint, configures blazar.conf, the Nova
# scheduler (blazar-nova filter) and the freepool aggregate, and runs
# blazar-api under uwsgi and blazar-manager as devstack services
# (devstack@blazar-a and devstack@blazar-m).

# Save trace setting
_XTRACE_BLAZAR=$(set +o | grep xtrace)
set -o xtrace

BLAZAR_BIN_DIR=$(get_python_exec_prefix)

# install_blazar() - the service, the uwsgi server and the CLI
function install_blazar {
    setup_develop "$BLAZAR_DIR"
    pip_install uwsgi
    if [[ "$BLAZAR_INSTALL_CLIENT" == "True" ]]; then
        pip_install python-blazarclient
    fi
}

# install_blazar_nova() - the scheduler filter, where Nova runs
function install_blazar_nova {
    pip_install "$BLAZAR_NOVA_PACKAGE"
}

# create_blazar_accounts() - Keystone user, service and endpoint
function create_blazar_accounts {
    create_service_user "$BLAZAR_USER_NAME" "admin"
    get_or_create_service "blazar" "reservation" \
        "Blazar Resource Reservation Service"
    get_or_create_endpoint "reservation" "$REGION_NAME" \
        "$BLAZAR_SERVICE_URI" "$BLAZAR_SERVICE_URI" "$BLAZAR_SERVICE_URI"
}

# configure_blazar() - blazar.conf and the uwsgi configuration
function configure_blazar {
    sudo install -d -o "$STACK_USER" "$BLAZAR_CONF_DIR"
    rm -f "$BLAZAR_CONF_FILE"

    iniset "$BLAZAR_CONF_FILE" DEFAULT debug "$ENABLE_DEBUG_LOG_LEVEL"
    iniset "$BLAZAR_CONF_FILE" DEFAULT auth_strategy keystone
    iniset "$BLAZAR_CONF_FILE" DEFAULT transport_url "$(get_transport_url)"
    iniset "$BLAZAR_CONF_FILE" DEFAULT state_path "$DATA_DIR/blazar"
    iniset "$BLAZAR_CONF_FILE" database connection \
        "$(database_connection_url blazar)"
    iniset "$BLAZAR_CONF_FILE" manager plugins "$BLAZAR_PLUGINS"
    iniset "$BLAZAR_CONF_FILE" oslo_middleware \
        enable_proxy_headers_parsing True

    configure_keystone_authtoken_middleware "$BLAZAR_CONF_FILE" \
        "$BLAZAR_USER_NAME"

    # Blazar drives Nova as its own service user.
    iniset "$BLAZAR_CONF_FILE" nova auth_type password
    iniset "$BLAZAR_CONF_FILE" nova auth_url "$KEYSTONE_SERVICE_URI"
    iniset "$BLAZAR_CONF_FILE" nova username "$BLAZAR_USER_NAME"
    iniset "$BLAZAR_CONF_FILE" nova password "$SERVICE_PASSWORD"
    iniset "$BLAZAR_CONF_FILE" nova project_name "$SERVICE_PROJECT_NAME"
    iniset "$BLAZAR_CONF_FILE" nova user_domain_name "$SERVICE_DOMAIN_NAME"
    iniset "$BLAZAR_CONF_FILE" nova project_domain_name "$SERVICE_DOMAIN_NAME"
    iniset "$BLAZAR_CONF_FILE" nova region_name "$REGION_NAME"
    iniset "$BLAZAR_CONF_FILE" nova aggregate_freepool_name \
        "$BLAZAR_FREEPOOL_NAME"

    # Lease creators delegate to the same user with a Keystone trust.
    iniset "$BLAZAR_CONF_FILE" trustee auth_type password
    iniset "$BLAZAR_CONF_FILE" trustee auth_url "$KEYSTONE_SERVICE_URI"
    iniset "$BLAZAR_CONF_FILE" trustee username "$BLAZAR_USER_NAME"
    iniset "$BLAZAR_CONF_FILE" trustee password "$SERVICE_PASSWORD"
    iniset "$BLAZAR_CONF_FILE" trustee user_domain_name "$SERVICE_DOMAIN_NAME"

    if [[ "$USE_SYSTEMD" == "True" ]]; then
        setup_systemd_logging "$BLAZAR_CONF_FILE"
    fi

    configure_blazar_uwsgi
}

# configure_blazar_uwsgi() - blazar-api under uwsgi on the Blazar port
function configure_blazar_uwsgi {
    rm -f "$BLAZAR_UWSGI_CONF"
    iniset "$BLAZAR_UWSGI_CONF" uwsgi module "$BLAZAR_UWSGI_APP"
    iniset "$BLAZAR_UWSGI_CONF" uwsgi env \
        "BLAZAR_CONFIG_FILE=$BLAZAR_CONF_FILE"
    iniset "$BLAZAR_UWSGI_CONF" uwsgi http-socket \
        "$BLAZAR_SERVICE_HOST:$BLAZAR_SERVICE_PORT"
    iniset "$BLAZAR_UWSGI_CONF" uwsgi processes "$BLAZAR_API_WORKERS"
    iniset "$BLAZAR_UWSGI_CONF" uwsgi threads 2
    iniset "$BLAZAR_UWSGI_CONF" uwsgi master true
    iniset "$BLAZAR_UWSGI_CONF" uwsgi enable-threads true
    iniset "$BLAZAR_UWSGI_CONF" uwsgi lazy-apps true
    iniset "$BLAZAR_UWSGI_CONF" uwsgi thunder-lock true
    iniset "$BLAZAR_UWSGI_CONF" uwsgi buffer-size 65535
    iniset "$BLAZAR_UWSGI_CONF" uwsgi die-on-term true
    iniset "$BLAZAR_UWSGI_CONF" uwsgi exit-on-reload false
    iniset "$BLAZAR_UWSGI_CONF" uwsgi add-header "Connection: close"
}

# configure_nova_for_blazar() - the blazar-nova filter in Nova's scheduler
function configure_nova_for_blazar {
    local filters
    filters=$(iniget "$NOVA_CONF" filter_scheduler enabled_filters)
    if [[ -z "$filters" ]]; then
        # Nova's defaults (its AvailabilityZoneFilter is gone)
        filters="ComputeFilter,ComputeCapabilitiesFilter"
        filters+=",ImagePropertiesFilter,ServerGroupAntiAffinityFilter"
        filters+=",ServerGroupAffinityFilter"
    fi
    if [[ ",$filters," != *",$BLAZAR_NOVA_FILTER,"* ]]; then
        iniset "$NOVA_CONF" filter_scheduler enabled_filters \
            "$filters,$BLAZAR_NOVA_FILTER"
    fi
    local available
    available=$(iniget_multiline "$NOVA_CONF" filter_scheduler \
        available_filters)
    if [[ "$available" != *"$BLAZAR_NOVA_FILTER_CLASS"* ]]; then
        if [[ -z "$available" ]]; then
            iniset "$NOVA_CONF" filter_scheduler available_filters \
                nova.scheduler.filters.all_filters
        fi
        iniadd "$NOVA_CONF" filter_scheduler available_filters \
            "$BLAZAR_NOVA_FILTER_CLASS"
    fi
    iniset "$NOVA_CONF" "blazar:physical:host" aggregate_freepool_name \
        "$BLAZAR_FREEPOOL_NAME"
}

# init_blazar() - a fresh database at the latest schema
function init_blazar {
    recreate_database blazar
    "$BLAZAR_BIN_DIR/blazar-db-manage" --config-file "$BLAZAR_CONF_FILE" \
        upgrade head
}

# create_blazar_freepool() - the aggregate of reservable hosts
function create_blazar_freepool {
    if ! openstack --os-cloud devstack-admin aggregate show \
            "$BLAZAR_FREEPOOL_NAME" >/dev/null 2>&1; then
        openstack --os-cloud devstack-admin aggregate create \
            "$BLAZAR_FREEPOOL_NAME"
    fi
}

# start_blazar() - the API under uwsgi and the manager
function start_blazar {
    local uwsgi_cmd="$BLAZAR_BIN_DIR/uwsgi --procname-prefix blazar-api"
    run_process blazar-a "$uwsgi_cmd --ini $BLAZAR_UWSGI_CONF"
    run_process blazar-m \
        "$BLAZAR_BIN_DIR/blazar-manager --config-file $BLAZAR_CONF_FILE"

    local health
    health=$BLAZAR_SERVICE_PROTOCOL://$BLAZAR_SERVICE_HOST
    health+=:$BLAZAR_SERVICE_PORT/healthcheck
    echo "Waiting for blazar-api to answer at $health..."
    if ! wait_for_service "$SERVICE_TIMEOUT" "$health"; then
        die $LINENO "blazar-api did not start"
    fi
}

# stop_blazar() - stop both services
function stop_blazar {
    stop_process blazar-a
    stop_process blazar-m
}

# cleanup_blazar() - remove what configure_blazar wrote
function cleanup_blazar {
    sudo rm -rf "$BLAZAR_CONF_DIR"
}

if is_service_enabled blazar; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing Blazar"
        install_blazar
        if is_service_enabled n-sch; then
            install_blazar_nova
        fi
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        echo_summary "Configuring Blazar"
        if is_service_enabled keystone; then
            create_blazar_accounts
        fi
        configure_blazar
        if is_service_enabled n-sch; then
            configure_nova_for_blazar
        fi
        init_blazar
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Starting Blazar"
        if is_service_enabled n-api; then
            create_blazar_freepool
        fi
        start_blazar
        "$BLAZAR_BIN_DIR/blazar-status" --config-file "$BLAZAR_CONF_FILE" \
            upgrade check || true
    fi

    if [[ "$1" == "unstack" ]]; then
        stop_blazar
    fi

    if [[ "$1" == "clean" ]]; then
        cleanup_blazar
    fi
fi

# Restore xtrace
$_XTRACE_BLAZAR

#!/bin/bash
#
# devstack/plugin.sh: the Blazar devstack plugin.
#
# Installs Blazar (and, from PyPI or from git with LIBS_FROM_GIT,
# python-blazarclient, blazar-nova where Nova schedules, blazar-dashboard
# where Horizon runs), creates its database, its Keystone user, the
# 'reservation' service and its endpoint, configures blazar.conf, the Nova
# scheduler (blazar-nova filter), the freepool aggregate and tempest, and
# runs blazar-api under uwsgi behind Apache at /reservation
# (devstack@blazar-a) and blazar-manager (devstack@blazar-m).
#
# Service names: 'blazar' (the whole service), or upstream's 'blazar-a'
# and 'blazar-m' (each process); any of them enables the plugin.

# Save trace setting
_XTRACE_BLAZAR=$(set +o | grep xtrace)
set -o xtrace

BLAZAR_BIN_DIR=$(get_python_exec_prefix)

# is_blazar_enabled() - true when any of the service's names is enabled
function is_blazar_enabled {
    is_service_enabled blazar blazar-a blazar-m
}

# install_blazar_lib() - a library from git (LIBS_FROM_GIT) or PyPI
function install_blazar_lib {
    local name=$1
    local package=${2:-$1}
    if use_library_from_git "$name"; then
        git_clone_by_name "$name"
        setup_dev_lib "$name"
    else
        pip_install "$package"
    fi
}

# install_blazar() - the service, the uwsgi server and the CLI
function install_blazar {
    setup_develop "$BLAZAR_DIR"
    pip_install uwsgi
    if [[ "$BLAZAR_INSTALL_CLIENT" == "True" ]]; then
        install_blazar_lib python-blazarclient
    fi
}

# install_blazar_nova() - the scheduler filter, where Nova schedules
function install_blazar_nova {
    install_blazar_lib blazar-nova "$BLAZAR_NOVA_PACKAGE"
}

# install_blazar_dashboard() - the Horizon panels
function install_blazar_dashboard {
    install_blazar_lib blazar-dashboard "$BLAZAR_DASHBOARD_PACKAGE"
}

# blazar_dashboard_dir() - where the installed blazar_dashboard package is
function blazar_dashboard_dir {
    "$PYTHON" -c 'import os, blazar_dashboard
print(os.path.dirname(blazar_dashboard.__file__))'
}

# configure_blazar_dashboard() - enable the panels in Horizon
function configure_blazar_dashboard {
    local enabled
    enabled=$(blazar_dashboard_dir)/enabled
    cp -a "$enabled"/_*.py "$HORIZON_DIR/openstack_dashboard/local/enabled/"
}

# cleanup_blazar_dashboard() - disable the panels again
function cleanup_blazar_dashboard {
    local enabled
    enabled=$(blazar_dashboard_dir 2>/dev/null)/enabled
    local panel
    local horizon_enabled=$HORIZON_DIR/openstack_dashboard/local/enabled
    for panel in "$enabled"/_*.py; do
        rm -f "$horizon_enabled/$(basename "$panel")"
    done
}

# create_blazar_accounts() - Keystone user, service and endpoint
function create_blazar_accounts {
    create_service_user "$BLAZAR_USER_NAME" "admin"
    get_or_create_service "blazar" "reservation" \
        "Blazar Resource Reservation Service"
    get_or_create_endpoint "reservation" "$REGION_NAME" "$BLAZAR_SERVICE_URI"
}

# configure_blazar() - blazar.conf and the uwsgi configuration
function configure_blazar {
    sudo install -d -o "$STACK_USER" "$BLAZAR_CONF_DIR" "$BLAZAR_STATE_DIR"
    rm -f "$BLAZAR_CONF_FILE"

    iniset "$BLAZAR_CONF_FILE" DEFAULT debug "$ENABLE_DEBUG_LOG_LEVEL"
    iniset "$BLAZAR_CONF_FILE" DEFAULT auth_strategy keystone
    iniset "$BLAZAR_CONF_FILE" DEFAULT transport_url "$(get_transport_url)"
    iniset "$BLAZAR_CONF_FILE" DEFAULT state_path "$BLAZAR_STATE_DIR"
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

    # blazar-api under uwsgi, reached through Apache at /reservation.
    write_uwsgi_config "$BLAZAR_UWSGI_CONF" "$BLAZAR_UWSGI_APP" \
        "$BLAZAR_URL_PATH" "" "blazar-api"
    iniset "$BLAZAR_UWSGI_CONF" uwsgi env \
        "BLAZAR_CONFIG_FILE=$BLAZAR_CONF_FILE"
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

# configure_tempest_for_blazar() - blazar-tempest-plugin's options
function configure_tempest_for_blazar {
    # blazar-tempest-plugin reads the service's old name, climate.
    iniset "$TEMPEST_CONFIG" service_available climate True
    iniset "$TEMPEST_CONFIG" service_available blazar True
    iniset "$TEMPEST_CONFIG" resource_reservation catalog_type reservation
    iniset "$TEMPEST_CONFIG" resource_reservation endpoint_type publicURL
    iniset "$TEMPEST_CONFIG" resource_reservation region "$REGION_NAME"
    iniset "$TEMPEST_CONFIG" resource_reservation lease_interval \
        "$BLAZAR_TEMPEST_LEASE_INTERVAL"
    iniset "$TEMPEST_CONFIG" resource_reservation lease_end_timeout \
        "$BLAZAR_TEMPEST_LEASE_END_TIMEOUT"
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

# start_blazar() - the API under uwsgi and the manager (each if enabled)
function start_blazar {
    run_process blazar-a \
        "$BLAZAR_BIN_DIR/uwsgi --procname-prefix blazar-api \
--ini $BLAZAR_UWSGI_CONF"
    run_process blazar-m \
        "$BLAZAR_BIN_DIR/blazar-manager --config-file $BLAZAR_CONF_FILE"

    if is_service_enabled blazar-a; then
        local health=$BLAZAR_SERVICE_PROTOCOL://$BLAZAR_SERVICE_HOST
        health+=$BLAZAR_URL_PATH/healthcheck
        echo "Waiting for blazar-api to answer at $health..."
        if ! wait_for_service "$SERVICE_TIMEOUT" "$health"; then
            die $LINENO "blazar-api did not start"
        fi
    fi
}

# check_blazar_upgrade() - blazar-status upgrade check; a failure (exit
# code 2 or more) fails the stack, a warning (1) is only shown
function check_blazar_upgrade {
    local rc=0
    "$BLAZAR_BIN_DIR/blazar-status" --config-file "$BLAZAR_CONF_FILE" \
        upgrade check || rc=$?
    if [[ $rc -ge 2 ]]; then
        die $LINENO "blazar-status upgrade check failed (exit code $rc)"
    fi
}

# stop_blazar() - stop both services
function stop_blazar {
    stop_process blazar-a
    stop_process blazar-m
}

# drop_blazar_database() - the database is removed, not only emptied
function drop_blazar_database {
    case "$DATABASE_TYPE" in
        mysql)
            mysql -u"$DATABASE_USER" -p"$DATABASE_PASSWORD" \
                -h"$DATABASE_HOST" -e "DROP DATABASE IF EXISTS blazar;"
            ;;
        postgresql)
            dropdb -h "$DATABASE_HOST" -U "$DATABASE_USER" --if-exists blazar
            ;;
    esac
}

# cleanup_blazar() - remove the database, the configuration (uwsgi and
# Apache's site included) and the state
function cleanup_blazar {
    remove_uwsgi_config "$BLAZAR_UWSGI_CONF" "blazar-api"
    drop_blazar_database
    sudo rm -rf "$BLAZAR_CONF_DIR" "$BLAZAR_STATE_DIR"
    if is_service_enabled horizon; then
        cleanup_blazar_dashboard
    fi
}

if is_blazar_enabled; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        echo_summary "Installing Blazar"
        install_blazar
        if is_service_enabled n-sch; then
            install_blazar_nova
        fi
        if is_service_enabled horizon; then
            install_blazar_dashboard
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
        if is_service_enabled horizon; then
            configure_blazar_dashboard
        fi
        init_blazar
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        echo_summary "Starting Blazar"
        if is_service_enabled n-api; then
            create_blazar_freepool
        fi
        start_blazar
        check_blazar_upgrade
    elif [[ "$1" == "stack" && "$2" == "test-config" ]]; then
        if is_service_enabled tempest; then
            echo_summary "Configuring tempest for Blazar"
            configure_tempest_for_blazar
        fi
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

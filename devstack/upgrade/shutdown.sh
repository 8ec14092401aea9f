#!/bin/bash
#
# Grenade: stop the base side's Blazar before the upgrade.

set -o errexit

source "$GRENADE_DIR/grenaderc"
source "$GRENADE_DIR/functions"

# the base side's devstack and its settings of the plugin
source "$BASE_DEVSTACK_DIR/functions"
source "$BASE_DEVSTACK_DIR/stackrc"
source "$BASE_DEVSTACK_DIR/lib/apache"
source "$BASE_DEVSTACK_DIR/../blazar/devstack/settings"

set -o xtrace

stop_process blazar-a
stop_process blazar-m

# the processes must be gone before the code is replaced
ensure_services_stopped blazar-manager

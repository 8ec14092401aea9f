#!/bin/bash
#
# Grenade: upgrade Blazar to the target side's code, its schema, and start
# it again; a failing upgrade check fails the upgrade.

echo "*********************************************************************"
echo "Begin $0"
echo "*********************************************************************"

set -o errexit

source "$GRENADE_DIR/grenaderc"
source "$GRENADE_DIR/functions"

# the target side's devstack and the plugin's functions
source "$TARGET_DEVSTACK_DIR/stackrc"
source "$TARGET_DEVSTACK_DIR/functions"
source "$TARGET_DEVSTACK_DIR/lib/apache"
source "$TARGET_DEVSTACK_DIR/lib/database"
source "$TARGET_RELEASE_DIR/blazar/devstack/settings"
source "$TARGET_RELEASE_DIR/blazar/devstack/plugin.sh"

set -o xtrace

# Keep track of the current directory
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
TOP_DIR=$TARGET_DEVSTACK_DIR

# Save the configuration: the upgrade keeps it.
BLAZAR_SAVE_DIR=$SAVE_DIR/blazar
mkdir -p "$BLAZAR_SAVE_DIR"
cp -a "$BLAZAR_CONF_DIR" "$BLAZAR_SAVE_DIR/"

install_blazar

"$BLAZAR_BIN_DIR/blazar-db-manage" --config-file "$BLAZAR_CONF_FILE" \
    upgrade head || die $LINENO "Blazar's schema upgrade failed"

start_blazar
check_blazar_upgrade

ensure_services_started blazar-manager

set +o xtrace
echo "*********************************************************************"
echo "SUCCESS: End $0 ($SCRIPT_DIR)"
echo "*********************************************************************"

#!/usr/bin/env bash
# Publish a model bundle by copying it into a directory (a mounted share, a model server's folder).
# Usage: MODEL_PUBLISH_DIR=/srv/models publish_directory.sh ARCHIVE VERSION_TAG MODEL_CARD
set -euo pipefail

archive=$1
version_tag=$2
: "${MODEL_PUBLISH_DIR:?set MODEL_PUBLISH_DIR to the directory that receives the bundles}"

destination="$MODEL_PUBLISH_DIR/$version_tag"
mkdir -p "$destination"
cp "$archive" "$destination/"
echo "published $(basename "$archive") to $destination"

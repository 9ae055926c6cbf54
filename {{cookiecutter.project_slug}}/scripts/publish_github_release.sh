#!/usr/bin/env bash
# Publish a model bundle as an asset of its version's GitHub Release (created on first use).
# Usage: publish_github_release.sh ARCHIVE VERSION_TAG MODEL_CARD
# Needs the GitHub CLI (`gh`) and GH_TOKEN with contents: write. Replace this script to publish
# elsewhere (a model server, an object store): `deploy --publisher` or $MODEL_PUBLISHER picks it.
set -euo pipefail

archive=$1
version_tag=$2
model_card=$3

if ! gh release view "$version_tag" >/dev/null 2>&1; then
  gh release create "$version_tag" --verify-tag --title "$version_tag" --notes-file "$model_card"
fi
gh release upload "$version_tag" "$archive" --clobber

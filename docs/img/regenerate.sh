#!/usr/bin/env bash
# Redraws the README's images from a fresh run: docs/img/kpi_comparison.png is the headline chart of
# a 20-replication compare of the Kent scenario (the README's walk-through).
#   bash docs/img/regenerate.sh            # results in a temporary folder
#   bash docs/img/regenerate.sh DIR        # keep the results in DIR (must not exist yet)
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-$(mktemp -d)/kent-compare}"
dps-sim compare scenarios/kent_youth_dps.yaml --reps 20 --out "$out" --quiet
cp "$out/charts/kpi_comparison.png" docs/img/kpi_comparison.png
echo "docs/img/kpi_comparison.png redrawn from $out"

#!/usr/bin/env bash
# Takes the console screenshots in docs/images with headless Chromium (chromedriver), by running the browser tests
# that open a running and a finished run page. Needs ./scripts/setup.sh (chromium, chromium-driver).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tests/FlyteSharp.IntegrationTests -c Release -warnaserror -v q
FLYTESHARP_SCREENSHOT_DIR="$PWD/docs/images" dotnet test tests/FlyteSharp.IntegrationTests -c Release --no-build \
  --filter "FullyQualifiedName~RunPageChromiumTests.RunningRun_PageOpenInChromium"
ls -l docs/images/console-*.png

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR MIT
# Regenerate patches/ from a kernel git tree whose commits on top of BASE
# are the series, filling the cover letter from patches/cover-blurb.txt.
# Usage: scripts/export-series.sh KERNEL_GIT_TREE BASE_COMMIT
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
k=${1:?usage: export-series.sh KERNEL_GIT_TREE BASE_COMMIT}
base=${2:?usage: export-series.sh KERNEL_GIT_TREE BASE_COMMIT}
rm -f "$top"/patches/0*.patch
git -C "$k" format-patch -q --cover-letter --no-signature -o "$top/patches" "$base"
cover=$(ls "$top"/patches/0000-cover-letter.patch)
python3 - "$cover" "$top/patches/cover-blurb.txt" <<'PY'
import sys
cover, blurb = sys.argv[1], open(sys.argv[2]).read()
subject, _, body = blurb.partition('\n')
subject = subject.replace('Subject: ', '')
text = open(cover).read()
text = text.replace('*** SUBJECT HERE ***', subject)
text = text.replace('*** BLURB HERE ***', body.strip())
open(cover, 'w').write(text)
PY
ls "$top"/patches/*.patch

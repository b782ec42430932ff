#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""lib/ is the only copy of the guest library: patch 1 of the kernel series
must carry exactly lib/'s files (scripts/lib-to-kernel.sh maps them).  This
fails when the two drift; regenerate the series (CONTRIBUTING.md) to fix."""
import glob
import os
import re
import sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
patch = glob.glob(os.path.join(top, 'patches', '0001-*.patch'))
n = 0
fail = False


def t(ok, what):
    """Print one TAP line."""
    global n, fail
    n += 1
    print(('ok' if ok else 'not ok') + ' %d - %s' % (n, what))
    fail |= not ok


def mapping():
    """Kernel path -> lib/ path, as scripts/lib-to-kernel.sh copies."""
    m = {'include/uapi/linux/hypertrace.h': 'lib/hypertrace_abi.h',
         'include/linux/hypertrace.h': 'lib/hypertrace.h'}
    for f in sorted(glob.glob(os.path.join(top, 'lib', '*.[ch]'))):
        b = os.path.basename(f)
        if b in ('hypertrace_abi.h', 'hypertrace.h', 'ht_compat.h'):
            continue
        m['lib/hypertrace/' + b] = 'lib/' + b
    return m


def new_files(text):
    """Contents of the files a patch creates."""
    files = {}
    for chunk in re.split(r'^diff --git ', text, flags=re.M)[1:]:
        head, _, rest = chunk.partition('\n')
        if 'new file mode' not in rest.split('@@', 1)[0]:
            continue
        name = head.split(' b/', 1)[1]
        body = rest.split('\n@@', 1)[1].split('\n', 1)[1]
        lines = []
        for line in body.split('\n'):
            if line.startswith('+'):
                lines.append(line[1:])
            elif line.startswith('\\'):
                continue
            else:
                break
        files[name] = '\n'.join(lines) + '\n'
    return files


t(len(patch) == 1, 'patches/0001-*.patch exists')
if patch:
    carried = new_files(open(patch[0]).read())
    for kpath, lpath in mapping().items():
        want = open(os.path.join(top, lpath)).read()
        got = carried.get(kpath)
        t(got == want, '%s carries %s unchanged' % (kpath, lpath))
    extra = [f for f in carried if f not in mapping() and
             f != 'lib/hypertrace/Makefile']
    t(not extra, 'patch 1 adds no library file that lib/ lacks %s' % (extra or ''))
print('1..%d' % n)
sys.exit(1 if fail else 0)

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""ci/boot-bisect.sh on a kernel history made here: the CI tree's source
gets a git history of three commits on top of what was built - a comment,
a 300 us udelay() in serial8250_init, another comment - and the bisection,
with incremental builds in the CI build directory itself and the
virtual-time gate at each step, must name the udelay commit and the
initcall it slowed.  A bad commit that does not regress means nothing to
bisect (exit 1); bad arguments are exit 2.  The source files are put back
as they were, newer than the objects of the last step (so that the next
`make kernel` rebuilds them: build/kernel/bzImage itself is not touched),
and the history removed."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import htboot  # noqa: E402

t = htboot.Tap()
BISECT = os.path.join(htboot.TOP, 'ci', 'boot-bisect.sh')
SRC = os.path.join(os.path.abspath(htboot.BUILD), 'kernel', 'src', 'linux-source-6.1')
OBJ = os.path.join(os.path.abspath(htboot.BUILD), 'kernel', 'obj')
t.require(htboot.HYPERTRACE, htboot.KERNEL, htboot.INITRAMFS, os.path.join(OBJ, 'vmlinux'),
          os.path.join(SRC, 'lib', 'hypertrace', 'ht_core.c'))
work = tempfile.mkdtemp(prefix='ht-bisect-')
env = dict(os.environ, HT=htboot.HYPERTRACE)
SERIAL = 'drivers/tty/serial/8250/8250_core.c'
TOUCHED = [SERIAL, 'kernel/reboot.c', 'kernel/panic.c']
if os.path.exists(os.path.join(SRC, '.git')):
    t.ok(False, '%s has no .git of its own (this test makes one and removes it; '
         'after an interrupted run, rm -rf build/kernel/src and make kernel)' % SRC)
    sys.exit(t.done())


def git(*args):
    """git in the source tree; its output"""
    return subprocess.run(['git', '-C', SRC, '-c', 'user.name=bisect.t',
                           '-c', 'user.email=bisect.t@hypertrace.invalid'] + list(args),
                          check=True, capture_output=True, text=True).stdout.strip()


def commit(path, old, new, msg):
    """replace @old by @new in @path and commit it; the new commit's id"""
    full = os.path.join(SRC, path)
    text = open(full).read()
    assert old in text, (path, old)
    open(full, 'w').write(text.replace(old, new, 1))
    git('commit', '-q', '-a', '-m', msg)
    return git('rev-parse', 'HEAD')


def bisect(*args):
    """ci/boot-bisect.sh; (exit status, stderr)"""
    p = subprocess.run([BISECT] + list(args), capture_output=True, text=True, env=env,
                       timeout=1800)
    return p.returncode, p.stderr


saved = os.path.join(work, 'saved')
for f in TOUCHED:
    os.makedirs(os.path.dirname(os.path.join(saved, f)), exist_ok=True)
    shutil.copy2(os.path.join(SRC, f), os.path.join(saved, f))
try:
    # the history: only the files it changes are tracked, which is all git
    # bisect needs; each step builds in the CI build directory, incrementally
    # (a copy elsewhere would rebuild everything: objtool records its path)
    git('init', '-q')
    git('add', '-f', '--', *TOUCHED)
    git('commit', '-q', '-m', 'base: the tree as built')
    c0 = git('rev-parse', 'HEAD')
    # comments at the ends of files: the code does not move
    end = open(os.path.join(SRC, 'kernel/reboot.c')).read()[-40:]
    c1 = commit('kernel/reboot.c', end, end + '/* a comment */\n', 'reboot: a comment')
    text = open(os.path.join(SRC, SERIAL)).read()
    at = text.index('static int __init serial8250_init(void)\n{\n')
    body = text[at:text.index('\n', text.index('{', at)) + 1]
    c2 = commit(SERIAL, body, body + '\tudelay(300);\n', 'serial: wait 300 us at init')
    end = open(os.path.join(SRC, 'kernel/panic.c')).read()[-40:]
    c3 = commit('kernel/panic.c', end, end + '/* another comment */\n', 'panic: a comment')
    obj = OBJ
    out = os.path.join(work, 'out')

    rc, err = bisect('--ktree', SRC, '--good', c0, '--bad', c3, '--metric',
                     'initcall serial8250_init', '--obj', obj, '-o', out)
    result = open(os.path.join(out, 'result.txt')).read() if os.path.exists(
        os.path.join(out, 'result.txt')) else ''
    t.ok(rc == 0 and result.startswith(c2 + ' serial: wait 300 us at init'),
         'the first bad commit is the udelay in serial8250_init', err[-3000:] + result)
    t.ok(result.splitlines()[-1:] and result.splitlines()[-1].startswith('regressed: ') and
         'initcall serial8250_init' in result.splitlines()[-1],
         'result.txt says what it regressed: %s' % result.splitlines()[-1:], result)
    steps = sorted(d for d in os.listdir(out) if d.startswith('step-') and
                   os.path.isdir(os.path.join(out, d)))
    t.ok(len(steps) >= 1 and len(os.listdir(os.path.join(out, 'kernels'))) <= 4,
         'git bisect run took %d steps, each kernel built once' % len(steps), str(steps))
    t.ok(git('rev-parse', 'HEAD') == c3 and 'bisect' not in git('status'),
         'the tree is back at the commit it was at, no bisection left open', git('status'))

    rc, err = bisect('--ktree', SRC, '--good', c0, '--bad', c1, '--obj', obj, '-o', out)
    t.ok(rc == 1 and 'does not regress anything' in err and 'nothing to bisect' in err,
         'a bad commit that does not regress: exit 1, nothing to bisect', err[-1500:])
finally:
    shutil.rmtree(os.path.join(SRC, '.git'), ignore_errors=True)
    for f in TOUCHED:
        # a fresh time: newer than what the last step built from it
        shutil.copy(os.path.join(saved, f), os.path.join(SRC, f))

rc, err = bisect('--good', 'HEAD', '--bad', 'HEAD')
t.ok(rc == 2 and '--ktree DIR is required' in err, 'no --ktree: exit 2, says so', err)
rc, err = bisect('--ktree', work, '--good', 'a', '--bad', 'b', '-o', os.path.join(work, 'x'))
t.ok(rc == 2 and 'is not a git tree' in err, 'a directory that is no git tree: exit 2', err)
t.ok(not os.path.exists(os.path.join(SRC, '.git')) and all(
    open(os.path.join(SRC, f), 'rb').read() == open(os.path.join(saved, f), 'rb').read()
    for f in TOUCHED), 'the source tree is as it was: no history, the files restored')
shutil.rmtree(work, ignore_errors=True)
sys.exit(t.done())

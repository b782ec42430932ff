#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
"""The kernel log without a console: real boots recorded by
hypertrace-collector, whose LOG chunk (read from guest RAM at the end of
the run) must hold the same lines, in the same order, as the serial
console of the same boot, modulo the console's formatting: a good boot, a
good boot whose log moved to its dynamic buffer (log_buf_len=), and a
panic.  A panicking boot with no serial port at all still yields its log
and its report shows the last lines.  hypertrace log reads the RAM file
straight too.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import htboot  # noqa: E402

B = htboot.BUILD
COLL = os.path.join(B, 'bin', 'hypertrace-collector')
t = htboot.Tap()
for f in (COLL, htboot.KERNEL, htboot.INITRAMFS, htboot.HYPERTRACE):
    if not os.path.exists(f):
        print('1..0 # SKIP %s missing: run make check' % f)
        sys.exit(0)
work = tempfile.mkdtemp(prefix='ht-log-')
by_name, _ = htboot.symbols()
victim = 'loop_init' if 'loop_init' in by_name else 'serial8250_init'
STAMP = re.compile(r'^\[ *\d+\.\d{6}\] ')


def collect(name, append, console=True, opts=()):
    """Run the collector on the test kernel; (exit status, stderr, trace, console text)."""
    out = os.path.join(work, name + '.htf')
    con = os.path.join(work, name + '.console')
    serial = ['-serial', 'file:' + con] if console else ['-serial', 'none']
    qemu = (['qemu-system-x86_64', '-m', '256', '-smp', '1', '-display', 'none',
             '-monitor', 'none', '-no-reboot'] + serial +
            ['-kernel', htboot.KERNEL, '-initrd', htboot.INITRAMFS,
             '-append', ('console=ttyS0 ' if console else '') + 'panic=-1 ' + append])
    cmd = [COLL, 'run', '-o', out, '--accel', 'tcg', '--dir', work, '--quiet'] + list(opts)
    p = subprocess.run(cmd + ['--'] + qemu, capture_output=True, text=True, timeout=300)
    text = open(con, errors='replace').read() if console and os.path.exists(con) else ''
    return p.returncode, p.stderr, out, text


def log_json(path):
    """hypertrace log --json of a trace or RAM file: (object or None, exit status, stderr)."""
    p = subprocess.run([htboot.HYPERTRACE, 'log', '--json', '--quiet', path],
                       capture_output=True, text=True)
    return (json.loads(p.stdout) if p.returncode == 0 else None), p.returncode, p.stderr


def lines_of(log):
    """The log as the console prints it: every line of every record behind its stamp."""
    out = []
    for r in log['records']:
        stamp = '[%5d.%06d] ' % (r['ts_nsec'] // 10**9, r['ts_nsec'] % 10**9 // 1000)
        out += [stamp + line for line in r['text'].split('\n')]
    return out


def console_lines(text):
    """The kernel's lines of a serial console capture (userspace's are unstamped)."""
    return [line.rstrip('\r') for line in text.splitlines() if STAMP.match(line)]


def same_as_console(name, log, text):
    """The recovered log and the console: the same lines in the same order."""
    got, want = lines_of(log), console_lines(text)
    t.ok(len(want) > 50, '%s: the console printed %d kernel lines' % (name, len(want)))
    diff = [(i, a, b) for i, (a, b) in enumerate(zip(got, want)) if a != b][:5]
    t.ok(got == want, '%s: the log from guest RAM equals the console: %d lines, same order'
         % (name, len(got)),
         'log %d lines, console %d; first differences: %r\nlog tail: %r\nconsole tail: %r'
         % (len(got), len(want), diff, got[-3:], want[-3:]))


# 1. a good boot, every level on the console
rc, err, trace, text = collect('good', 'ignore_loglevel')
t.ok(rc == 0, 'good boot: collector exit 0', err)
log, lrc, lerr = log_json(trace)
t.ok(log is not None and log['source'] == 'trace', 'good boot: the trace has a kernel log', lerr)
if log:
    same_as_console('good boot', log, text)
    t.ok(any('Linux version' in r['text'] for r in log['records'][:3]),
         'good boot: the log starts at the beginning ("Linux version")')

# 2. the log moved to its dynamic buffer: the struct was rewritten and re-announced
rc, err, trace, text = collect('moved', 'ignore_loglevel log_buf_len=1M')
log, lrc, lerr = log_json(trace)
t.ok(rc == 0 and log is not None, 'log_buf_len=1M boot: exit 0, a log', err + lerr)
if log:
    t.ok(any(r['text'] == 'printk: log_buf_len: 1048576 bytes' for r in log['records']),
         'log_buf_len=1M: the log read is the dynamic buffer (its own switch message)')
    same_as_console('log_buf_len=1M', log, text)

# 3. a panic, with the console
rc, err, trace, text = collect('panic', 'ignore_loglevel hypertrace_test=panic:' + victim)
log, lrc, lerr = log_json(trace)
t.ok(rc == 3 and log is not None, 'panic in %s: exit 3, a log' % victim, err + lerr)
if log:
    t.ok(any(r['text'].startswith('Kernel panic - not syncing') for r in log['records']),
         'panic: the panic message is in the log')
    same_as_console('panic', log, text)

# 4. a panic with no serial port at all: the log comes from RAM only
rc, err, trace, text = collect('noconsole', 'hypertrace_test=panic:' + victim, console=False,
                               opts=['--keep-ram'])
log, lrc, lerr = log_json(trace)
t.ok(rc == 3 and log is not None and len(log['records']) > 50,
     'no console: panic, and the log has %d records' % (len(log['records']) if log else 0),
     err + lerr)
if log:
    t.ok(any(r['text'].startswith('Kernel panic - not syncing') for r in log['records']),
         'no console: the panic message is in the log')
p = subprocess.run([htboot.HYPERTRACE, 'report', '--json', trace], capture_output=True, text=True)
rep = json.loads(p.stdout) if p.returncode == 0 else {}
tail = rep.get('log_tail', [])
t.ok(len(tail) == 10 and tail[-1]['text'].startswith('Kernel panic - not syncing') and
     rep.get('log_records') == (len(log['records']) if log else -1),
     'no console: report --json log_tail: the 10 records up to the panic message',
     p.stderr + repr(tail))
p = subprocess.run([htboot.HYPERTRACE, 'report', trace], capture_output=True, text=True)
t.ok(re.search(r'last kernel log lines before the failure \(10 of \d+, read from guest RAM\):\n'
               r'(  \[ *\d+\.\d{6}\] .*\n){9}  \[ *\d+\.\d{6}\] "Kernel panic - not syncing', p.stdout),
     'no console: the text report shows the last log lines, ending with the panic', p.stdout[:1500])
p = subprocess.run([htboot.HYPERTRACE, 'html', '-o', os.path.join(work, 'r.html'), trace],
                   capture_output=True, text=True)
page = open(os.path.join(work, 'r.html')).read() if p.returncode == 0 else ''
t.ok('"log_tail":[{' in page and 'logTail(b)' in page,
     'no console: the HTML page carries the log tail for its banner', p.stderr)
rams = [os.path.join(d, 'ram') for d in (os.path.join(work, x) for x in os.listdir(work))
        if os.path.isdir(d) and os.path.exists(os.path.join(d, 'ram'))]
if rams and log:
    ram_log, lrc, lerr = log_json(rams[0])
    t.ok(ram_log is not None and ram_log['source'] == 'ram' and
         ram_log['records'] == log['records'],
         'hypertrace log on the RAM file (control area found by its magic) gives the same log',
         lerr)
else:
    t.ok(False, 'the RAM file was kept (--keep-ram)', repr(os.listdir(work)))

shutil.rmtree(work, ignore_errors=True)
sys.exit(t.done())

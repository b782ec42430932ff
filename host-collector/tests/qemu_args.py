# SPDX-License-Identifier: GPL-2.0 OR MIT
"""What the collector's QEMU command line tells a stand-in for QEMU: shared
by fake_qemu.py and fake_guest.py."""


def qemu_paths(args):
    """(guest RAM file, its size in bytes, doorbell socket, QMP socket)."""
    mem_path, size, db, qmp = None, 64 << 20, None, None
    for a in args:
        if a.startswith('memory-backend-file'):
            for kv in a.split(','):
                if kv.startswith('mem-path='):
                    mem_path = kv[9:]
                if kv.startswith('size='):
                    size = int(kv[5:].rstrip('M')) << 20
        if a.startswith('socket,id=ht-db,path='):
            db = a.split('path=')[1]
        if a.startswith('socket,id=ht-qmp,path='):
            qmp = a.split('path=')[1]
    return mem_path, size, db, qmp

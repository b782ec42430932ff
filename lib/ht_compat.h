/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Freestanding helpers for the Hypertrace guest library outside the
 * kernel: memory ordering, branch hints, alignment.  The kernel has its
 * own (the kernel platform maps ht_load_acquire() and friends onto
 * smp_load_acquire() and friends), so this file is not carried into it.
 */
#ifndef _HT_COMPAT_H
#define _HT_COMPAT_H

#include <linux/types.h>

#ifndef __KERNEL__
#include <stdbool.h>	/* freestanding headers (C11 4p6) */
#include <stddef.h>
#endif

#ifndef ht_load_acquire
/* ht_load_acquire() - load @p, ordered before every later access */
#define ht_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#endif

#ifndef ht_store_release
/* ht_store_release() - store @v to @p, ordered after every earlier access */
#define ht_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#endif

#ifndef ht_write_once
/* ht_write_once() - single untorn store the peer may read at any time */
#define ht_write_once(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#endif

#ifndef ht_read_once
/* ht_read_once() - single untorn load of a value the peer may change */
#define ht_read_once(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#endif

#ifndef ht_barrier
/* ht_barrier() - keep the compiler from moving memory accesses across */
#define ht_barrier()		do { asm volatile("" : : : "memory"); } while (0)
#endif

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

#ifndef noinline
#define noinline	__attribute__((__noinline__))
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#ifndef __aligned
#define __aligned(x)	__attribute__((aligned(x)))
#endif


#endif /* _HT_COMPAT_H */

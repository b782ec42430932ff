// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Linux kernel platform of the Hypertrace guest library: the state its
 * hooks need (see ht_platform_linux.h).  Built only inside the kernel.
 */
#include "ht_internal.h"

arch_spinlock_t ht_doorbell_lock = __ARCH_SPIN_LOCK_UNLOCKED;

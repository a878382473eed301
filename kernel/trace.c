// SPDX-License-Identifier: GPL-2.0
/*
 * mpcg tracepoints: the one place they are defined (see trace.h for the
 * events and their fields).  Owns nothing else and takes no lock.
 */
#ifndef MPCG_NO_TRACEPOINTS
#define CREATE_TRACE_POINTS
#include "trace.h"
#endif

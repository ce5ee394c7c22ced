#pragma once
// Umbrella header of xgrad::autograd.

#include "autograd/array.h"
#include "autograd/call_site.h"
#include "autograd/capture.h"
#include "autograd/debug/anomaly.h"
#include "autograd/debug/graph_export.h"
#include "autograd/debug/trace.h"
#include "autograd/function.h"
#include "autograd/functional.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/observer.h"
#include "autograd/ops.h"
#include "autograd/shape.h"
#include "autograd/tensor.h"
#include "autograd/threads.h"

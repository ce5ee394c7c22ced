#pragma once
// Umbrella header of xgrad::autograd.

#include "autograd/anomaly.h"
#include "autograd/array.h"
#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/graph_export.h"
#include "autograd/ops.h"
#include "autograd/shape.h"
#include "autograd/tensor.h"
#include "autograd/threads.h"
#include "autograd/trace.h"

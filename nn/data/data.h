#pragma once
// Umbrella header of xgrad::data: datasets and loaders, CSV and IDX readers, progress bar,
// metrics log, loss-curve plots, training-loop helpers; and xgrad::io save/load of named tensors.

#include "nn/data/csv.h"
#include "nn/data/dataset.h"
#include "nn/data/idx.h"
#include "nn/data/metrics.h"
#include "nn/data/plot.h"
#include "nn/data/progress.h"
#include "nn/data/training.h"
#include "nn/serialize.h"

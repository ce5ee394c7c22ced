#pragma once
// Umbrella header of xgrad::nn: modules, layers, initialisation, losses, optimizers,
// checkpoints and the fit() training loop.

#include "autograd/autograd.h"
#include "nn/activation.h"
#include "nn/activation_checkpoint.h"
#include "nn/callbacks.h"
#include "nn/checkpoint.h"
#include "nn/clip_grad.h"
#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/fit.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/module.h"
#include "nn/normalization.h"
#include "nn/optim/adam.h"
#include "nn/optim/lr_scheduler.h"
#include "nn/optim/optimizer.h"
#include "nn/optim/sgd.h"
#include "nn/pooling.h"
#include "nn/sequential.h"

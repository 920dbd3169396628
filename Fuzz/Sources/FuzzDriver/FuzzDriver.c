// The declaration in include/FuzzDriver.h is the whole target; libFuzzer (-sanitize=fuzzer) defines the function.
#include "FuzzDriver.h"

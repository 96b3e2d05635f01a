// placeholder: implemented by its owner
#include "util/TerminationWatcher.h"

// placeholder: implemented by its owner
#include "util/Logging.h"

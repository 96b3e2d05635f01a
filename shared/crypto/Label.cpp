// placeholder: implemented by its owner
#include "crypto/Label.h"

// placeholder: implemented by its owner
#include "crypto/KeyPair.h"

// placeholder: implemented by its owner
#include "crypto/Jws.h"

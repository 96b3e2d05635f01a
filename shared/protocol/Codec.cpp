// placeholder: implemented by its owner
#include "protocol/Codec.h"

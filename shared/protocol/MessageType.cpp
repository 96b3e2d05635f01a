// placeholder: implemented by its owner
#include "protocol/MessageType.h"

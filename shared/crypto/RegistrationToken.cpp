// placeholder: implemented by its owner
#include "crypto/RegistrationToken.h"

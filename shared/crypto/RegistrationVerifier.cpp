// placeholder: implemented by its owner
#include "crypto/RegistrationVerifier.h"

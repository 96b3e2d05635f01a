// placeholder: implemented by its owner
#include "http/HeaderRules.h"

// placeholder: implemented by its owner
#include "http/HttpParser.h"

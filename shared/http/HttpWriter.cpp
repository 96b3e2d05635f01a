// placeholder: implemented by its owner
#include "http/HttpWriter.h"

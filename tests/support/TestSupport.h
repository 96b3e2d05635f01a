#pragma once

// Everything tests/support offers, in one include.
#include "CurlJob.h"
#include "ManagedProcess.h"
#include "PacedVisitor.h"
#include "RedisServer.h"
#include "StreamSupport.h"
#include "TestEnvironment.h"
#include "TunnelFixture.h"

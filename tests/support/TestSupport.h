#pragma once

// Everything tests/support offers, in one include.
#include "CurlJob.h"
#include "ManagedProcess.h"
#include "RedisServer.h"
#include "TestEnvironment.h"
#include "TunnelFixture.h"

#pragma once

#include <QByteArray>
#include <QProcessEnvironment>
#include <QString>

namespace keyhole::testing {

// Where the programs under test live: $KEYHOLE_PROXY / $KEYHOLE_CLI, set by keyhole_add_test.
QString proxyProgram();
QString cliProgram();
// The Python interpreter ($KEYHOLE_PYTHON overrides the one CMake found) and the local test service.
QString pythonProgram();
QString testServiceScript();

// A TCP port that was free a moment ago. Prefer letting programs bind port 0 and reading it back;
// this is for "nothing listens here" cases.
quint16 freeTcpPort();

// Block i is SHA-256("<seed>:<i>"), truncated to n bytes; tests/integration/test_service.py's
// /bytes/<n>?seed=<seed> sends the same bytes.
QByteArray deterministicBytes(qsizetype n, const QByteArray &seed);
QByteArray sha256Hex(const QByteArray &data);

bool writeFile(const QString &path, const QByteArray &data);

} // namespace keyhole::testing

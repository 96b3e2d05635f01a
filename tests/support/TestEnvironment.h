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

// WebSocket tests: tests/integration/ws_service.py and ws_client.py need python3-websockets, which a
// pyenv/venv interpreter found by CMake may lack. wsPythonProgram() is the first of $KEYHOLE_PYTHON,
// pythonProgram() and /usr/bin/python3 that can `import websockets`; empty (with the reason in *error)
// if none can.
QString wsPythonProgram(QString *error = nullptr);
QString wsServiceScript();
QString wsClientScript();
// Chromium for the browser test: $KEYHOLE_CHROMIUM, else chromium / chromium-browser on PATH; empty if absent.
QString chromiumProgram();

// A TCP port that was free a moment ago. Prefer letting programs bind port 0 and reading it back;
// this is for "nothing listens here" cases.
quint16 freeTcpPort();

// Block i is SHA-256("<seed>:<i>"), truncated to n bytes; tests/integration/test_service.py's
// /bytes/<n>?seed=<seed> sends the same bytes.
QByteArray deterministicBytes(qsizetype n, const QByteArray &seed);
QByteArray sha256Hex(const QByteArray &data);

bool writeFile(const QString &path, const QByteArray &data);

} // namespace keyhole::testing

// render-icon: rasterises the app's SVG icon to the PNG sizes of the hicolor icon theme at build time, so
// the repository keeps one vector source and Linux packages still ship the bitmaps that some panels and
// software centres look for. Uses Qt's SVG image format plugin (libqt6svg6), no extra build dependency.
#include <QCoreApplication>
#include <QImage>
#include <QImageReader>
#include <QTextStream>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = QCoreApplication::arguments();
    bool sizeOk = false;
    const int size = args.size() == 4 ? args.at(2).toInt(&sizeOk) : 0;
    if (!sizeOk || size <= 0) {
        QTextStream(stderr) << "usage: render-icon SOURCE.svg SIZE OUTPUT.png\n";
        return 2;
    }
    QImageReader reader(args.at(1));
    reader.setScaledSize(QSize(size, size));
    const QImage image = reader.read();
    if (image.isNull()) {
        QTextStream(stderr) << "render-icon: " << args.at(1) << ": " << reader.errorString()
                            << " (is Qt's SVG image format plugin, libqt6svg6, installed?)\n";
        return 1;
    }
    if (!image.convertToFormat(QImage::Format_ARGB32).save(args.at(3), "PNG")) {
        QTextStream(stderr) << "render-icon: cannot write " << args.at(3) << '\n';
        return 1;
    }
    return 0;
}

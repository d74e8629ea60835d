// Separate compilation of Beast and Asio: their implementation is compiled
// once, here.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>

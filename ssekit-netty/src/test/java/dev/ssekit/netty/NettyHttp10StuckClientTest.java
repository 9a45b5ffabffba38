package dev.ssekit.netty;

/** Issue #31 on Netty, HTTP/1.0: a close-delimited body through the HTTP codec. */
class NettyHttp10StuckClientTest extends NettyStuckClientTest {

    @Override
    protected String protocol() {
        return "HTTP/1.0";
    }
}

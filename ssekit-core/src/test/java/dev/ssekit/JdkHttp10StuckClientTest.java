package dev.ssekit;

/** Issue #31 on the JDK's built-in HTTP server, HTTP/1.0: a close-delimited body. */
class JdkHttp10StuckClientTest extends JdkStuckClientTest {

    @Override
    protected String protocol() {
        return "HTTP/1.0";
    }
}

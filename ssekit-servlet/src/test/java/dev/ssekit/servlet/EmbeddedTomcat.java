package dev.ssekit.servlet;

import jakarta.servlet.Servlet;
import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.Map;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Wrapper;
import org.apache.catalina.startup.Tomcat;

/**
 * The embedded Tomcat 11 the Tomcat tests share: HTTP/1.1 on 127.0.0.1, an ephemeral port, a fresh
 * base directory, one servlet (async supported) at one mapping. Not thread-safe: one test thread.
 */
final class EmbeddedTomcat implements AutoCloseable {

    /**
     * Tomcat's default {@code connectionTimeout} (60 s), set explicitly: a stuck client's bounds in
     * the tests must hold by ssekit's own abort, not by Tomcat closing a stuck connection at its timeout.
     */
    static final Map<String, String> STUCK_CLIENT = Map.of("connectionTimeout", "60000");

    private final Tomcat tomcat;
    private final int port;

    private EmbeddedTomcat(Tomcat tomcat) {
        this.tomcat = tomcat;
        this.port = tomcat.getConnector().getLocalPort();
    }

    /**
     * Starts Tomcat with {@code servlet} named {@code name} at {@code mapping}.
     *
     * @param connector connector properties set besides the address (e.g. {@link #STUCK_CLIENT})
     */
    static EmbeddedTomcat start(String name, Servlet servlet, String mapping, Map<String, String> connector) throws Exception {
        File base = Files.createTempDirectory("tomcat").toFile();
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.getAbsolutePath());
        tomcat.setHostname("127.0.0.1");
        tomcat.getConnector().setPort(0);
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        connector.forEach(tomcat.getConnector()::setProperty);
        Context context = tomcat.addContext("", base.getAbsolutePath());
        Wrapper w = Tomcat.addServlet(context, name, servlet);
        w.setAsyncSupported(true);
        w.addMapping(mapping);
        tomcat.start();
        return new EmbeddedTomcat(tomcat);
    }

    int port() {
        return port;
    }

    InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", port);
    }

    /** Stops and destroys Tomcat. */
    @Override
    public void close() throws LifecycleException {
        tomcat.stop();
        tomcat.destroy();
    }
}

package dev.ssekit.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import dev.ssekit.servlet.ServletSse;
import dev.ssekit.testkit.RawHttp;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * A real Spring Boot application (Tomcat on an ephemeral port, Actuator) using the starter: its
 * meters and health over HTTP, and what a connected subscriber sees when the context closes.
 */
@Timeout(180) // each test starts Spring Boot, which takes tens of seconds on a loaded machine
class GracefulShutdownTest {

    /** The application: the starter's broadcaster behind {@code GET /events}. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    @Import(EventsController.class)
    static class App {

        /** Records, when the web server's graceful shutdown begins, what the broadcaster looks like. */
        @Bean
        WebServerStopProbe probe(Broadcaster hub, org.springframework.beans.factory.BeanFactory beans) {
            return new WebServerStopProbe(hub, beans, WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE);
        }

        /** Records, just before the web server itself stops (after its graceful shutdown), the same. */
        @Bean
        WebServerStopProbe serverStopProbe(Broadcaster hub, org.springframework.beans.factory.BeanFactory beans) {
            return new WebServerStopProbe(hub, beans, WebServerApplicationContext.START_STOP_LIFECYCLE_PHASE + 1);
        }
    }

    @RestController
    static class EventsController {
        private final Broadcaster hub;

        EventsController(Broadcaster hub) {
            this.hub = hub;
        }

        @GetMapping("/events")
        void subscribe(HttpServletRequest request, HttpServletResponse response) throws IOException {
            hub.subscribe(ServletSse.start(request, response), "t");
        }
    }

    /** A lifecycle in the web server's graceful shutdown phase: it stops when that phase starts. */
    static final class WebServerStopProbe implements SmartLifecycle {
        private final Broadcaster hub;
        /** Looked up when stopping: a lifecycle depending on another is stopped before it, whatever the phases. */
        private final org.springframework.beans.factory.BeanFactory beans;
        private final int phase;
        private volatile boolean running;
        volatile Boolean closedWhenServerStopping;
        volatile Long connectionsWhenServerStopping;
        /** Whether the starter's shutdown was still waiting when this phase began (its phase had timed out). */
        volatile Boolean starterStillStopping;

        WebServerStopProbe(Broadcaster hub, org.springframework.beans.factory.BeanFactory beans, int phase) {
            this.hub = hub;
            this.beans = beans;
            this.phase = phase;
        }

        @Override
        public void start() {
            running = true;
        }

        @Override
        public void stop() {
            closedWhenServerStopping = hub.isClosed();
            connectionsWhenServerStopping = hub.stats().connections();
            starterStillStopping = beans.getBean(BroadcasterShutdown.class).isRunning();
            running = false;
        }

        @Override
        public boolean isRunning() {
            return running;
        }

        @Override
        public int getPhase() {
            return phase;
        }
    }

    private static ConfigurableApplicationContext start(String... properties) {
        return new SpringApplicationBuilder(App.class).properties("server.port=0", "server.address=127.0.0.1",
                "server.shutdown=graceful", "spring.main.banner-mode=off").properties(properties).run();
    }

    private static InetSocketAddress address(ConfigurableApplicationContext ctx) {
        int port = ((WebServerApplicationContext) ctx).getWebServer().getPort();
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    @Test
    void closingTheContextSendsSubscribersTheShutdownEventAndEndsTheirStreamsBeforeTheServerStops() throws Exception {
        ConfigurableApplicationContext ctx = start("ssekit.shutdown-retry=2500ms");
        try {
            Broadcaster hub = ctx.getBean(Broadcaster.class);
            WebServerStopProbe probe = ctx.getBean("probe", WebServerStopProbe.class);
            try (RawHttp client = RawHttp.get(address(ctx), "/events", "HTTP/1.1")) {
                assertThat(client.statusLine).startsWith("HTTP/1.1 200");
                assertThat(client.headers.get("content-type")).startsWith("text/event-stream");
                await().atMost(Duration.ofSeconds(20)).until(() -> hub.stats().connections() == 1);
                hub.publish(SseMessage.of("before"), "t");
                assertThat(client.events(1).getFirst().data()).isEqualTo("before");

                CompletableFuture<Void> closing = CompletableFuture.runAsync(ctx::close);
                assertThat(client.readEvent()).isEqualTo("event: shutdown\ndata:\nretry: 2500\n\n");
                // the response ended with its last chunk: the server ended the stream, it did not cut it
                assertThatThrownBy(client::readEvent).isInstanceOf(EOFException.class);
                closing.get(60, TimeUnit.SECONDS);
            }
            assertThat(hub.isClosed()).isTrue();
            // by the time the web server's graceful shutdown began, the stream had already ended
            assertThat(probe.closedWhenServerStopping).isTrue();
            assertThat(probe.connectionsWhenServerStopping).isZero();
        } finally {
            ctx.close();
        }
    }

    /**
     * A subscriber that stopped reading (small receive buffer, never reads) holds its final event
     * up: the starter's wait ends inside Spring's timeout-per-shutdown-phase (its phase does not time
     * out), and the broadcaster's write timeout ends the stream during the web server's graceful
     * shutdown, before the server stops.
     */
    @Test
    void aSubscriberThatStoppedReadingDoesNotMakeTheStarterOutlastItsShutdownPhase() throws Exception {
        ConfigurableApplicationContext ctx = start("spring.lifecycle.timeout-per-shutdown-phase=6s", "ssekit.write-timeout=8s",
                "ssekit.max-queued-bytes=64MB");
        try {
            Broadcaster hub = ctx.getBean(Broadcaster.class);
            WebServerStopProbe graceful = ctx.getBean("probe", WebServerStopProbe.class);
            WebServerStopProbe serverStop = ctx.getBean("serverStopProbe", WebServerStopProbe.class);
            try (java.net.Socket stuck = new java.net.Socket()) {
                stuck.setReceiveBufferSize(4096); // before connecting: the window stays small
                stuck.connect(address(ctx), 10_000);
                stuck.getOutputStream().write(("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                await().atMost(Duration.ofSeconds(20)).until(() -> hub.stats().connections() == 1);
                // 24 MiB for a subscriber that reads nothing, without pauses: the kernel takes at most the server's
                // send buffer (autotuned up to tcp_wmem's maximum, 4 MiB; even one set by hand is at most 2 x wmem_max,
                // 8 MiB) and the client's 4 KiB receive window, so at least 15 MiB stay queued in the broadcaster
                // whatever the timing (under max-queued-bytes, 64 MB: the subscriber is not dropped for it)
                String chunk = "x".repeat(16 * 1024);
                for (int i = 0; i < 1_536; i++) {
                    hub.publish(SseMessage.of(chunk), "t");
                }
                assertThat(hub.stats().queuedBytes()).as("the stuck subscriber's writes are held up").isGreaterThan(256 * 1024);
                assertThat(hub.stats().connections()).isEqualTo(1);

                long begun = System.nanoTime();
                ctx.close();
                Duration took = Duration.ofNanos(System.nanoTime() - begun);
                assertThat(graceful.starterStillStopping).as("the starter's shutdown still waiting when the web server's graceful "
                        + "shutdown began (Spring timed its phase out)").isFalse();
                assertThat(serverStop.connectionsWhenServerStopping).as("streams open when the web server stopped").isZero();
                assertThat(took).as("the context closed").isLessThan(Duration.ofSeconds(30));
            }
        } finally {
            ctx.close();
        }
    }

    @Test
    void theWaitStaysInsideThePhaseTimeout() {
        assertThat(BroadcasterShutdown.waitBound(Duration.ofSeconds(30), Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(25));
        assertThat(BroadcasterShutdown.waitBound(Duration.ofSeconds(5), Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(10));
        assertThat(BroadcasterShutdown.waitBound(Duration.ofSeconds(30), Duration.ofSeconds(6))).isEqualTo(Duration.ofMillis(4500));
        assertThat(BroadcasterShutdown.waitBound(Duration.ofSeconds(30), Duration.ofMinutes(2))).isEqualTo(Duration.ofSeconds(35));
        assertThat(BroadcasterShutdown.waitBound(Duration.ofSeconds(30), Duration.ZERO)).isEqualTo(Duration.ZERO);
    }

    @Test
    void metersAndHealthOfTheRunningApplication() throws Exception {
        ConfigurableApplicationContext ctx = start("management.endpoint.health.show-details=always",
                "ssekit.metrics.tags.app=prices");
        try (HttpClient http = HttpClient.newHttpClient()) {
            Broadcaster hub = ctx.getBean(Broadcaster.class);
            MeterRegistry registry = ctx.getBean(MeterRegistry.class);
            try (RawHttp client = RawHttp.get(address(ctx), "/events", "HTTP/1.1")) {
                await().atMost(Duration.ofSeconds(20)).until(() -> hub.stats().connections() == 1);
                hub.publish(SseMessage.of("x"), "t");
                assertThat(client.events(1).getFirst().data()).isEqualTo("x");
                assertThat(registry.get("ssekit.connections").tag("app", "prices").gauge().value()).isEqualTo(1);
                assertThat(registry.get("ssekit.events.published").tag("app", "prices").functionCounter().count())
                        .isEqualTo(1);

                URI health = URI.create("http://127.0.0.1:" + address(ctx).getPort() + "/actuator/health/ssekit");
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(health).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).contains("\"status\":\"UP\"").contains("\"connections\":1")
                        .contains("\"published\":1");

                hub.close(); // the application shut its broadcaster: the indicator says so
                assertThat(client.events(1).getFirst().type()).isEqualTo("shutdown");
                HttpResponse<String> down = http.send(HttpRequest.newBuilder(health).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(down.statusCode()).isEqualTo(503);
                assertThat(down.body()).contains("\"status\":\"DOWN\"").contains("\"closed\":true");
            }
        } finally {
            ctx.close();
        }
    }
}

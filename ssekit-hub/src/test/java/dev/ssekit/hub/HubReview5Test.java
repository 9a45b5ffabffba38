package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.testkit.RawHttp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Review 5 of the hub's Mercure 1.0 changes of the day (drain 0's lone retry hint, the subscriptions API). */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubReview5Test {

    /*
     * Defect H5-1: a subscriber arriving while close() runs with no drain window (--drain 0; the default here) gets 200
     * and then a stream that ends with no retry: hint at all (":\n" then the end), though README ("--drain 0 closes
     * every stream at once (each with a lone retry: hint drawn from 0-1,000 ms") and RELIABILITY.md ("a lone retry:
     * hint at the age limit and the drain, also with --drain 0") promise one. MercureProtocol.stream() checks
     * lifetime.draining() before the head goes out; drain() with a window of 0 completes at once and close() goes on
     * to hub.close() (the broadcaster closed); the opener's s.start() then throws IllegalStateException("the broadcaster
     * is closed") and the catch (MercureProtocol.java:720-722) only calls conn.close(): no hint, the client falls back
     * to its own default reconnect delay (all such clients at once). (Streams opened after draining=true but before
     * hub.close() do get ConnectionLifetime.opened()'s hint.)
     */
    @Test
    void aSubscriberArrivingDuringADrainZeroCloseEndsWithTheLoneRetryHint() throws Exception {
        List<String> bad = new ArrayList<>();
        int streamsSeen = 0;
        for (int round = 0; round < 10 && bad.isEmpty(); round++) {
            JwtVerifier key = JwtVerifier.secret(KEY);
            Broadcaster broadcaster = Broadcaster.create();
            MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 64 * 1024,
                    1000, 1000, true, false, "", Duration.ofSeconds(10), Optional.empty()), broadcaster, Scheduler.system(),
                    Clock.systemUTC());
            InetSocketAddress address = hub.address();
            ConcurrentLinkedQueue<RawHttp> streams = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < 6; c++) {
                int client = c;
                clients.add(Thread.ofPlatform().daemon().start(() -> {
                    for (int i = 0; i < 400 && !stop.get(); i++) {
                        try {
                            RawHttp s = RawHttp.get(address, HubHandler.PATH + "?topic=t" + client + "-" + i, "HTTP/1.1");
                            if (s.statusLine.equals("HTTP/1.1 200 OK")) {
                                streams.add(s);
                            } else {
                                s.close();
                            }
                        } catch (IOException refusedOrCut) {
                            if (stop.get()) {
                                return;
                            }
                        }
                    }
                }));
            }
            Thread.sleep(150); // subscribers keep arriving
            try {
                hub.close();
            } finally {
                stop.set(true);
                for (Thread t : clients) {
                    t.join(10_000);
                }
            }
            for (RawHttp s : streams) {
                try (s) {
                    s.socket.setSoTimeout(10_000);
                    String rest;
                    try {
                        rest = s.readToEnd();
                    } catch (IOException cut) {
                        rest = "<" + cut + ">";
                    }
                    streamsSeen++;
                    if (!rest.matches(":\nretry: (\\d{1,3}|1000)\n\n")) {
                        bad.add("round " + round + ": " + rest.replace("\n", "\\n"));
                    }
                }
            }
        }
        assertThat(bad).as("streams (of %d) that did not end with the lone retry: hint at a --drain 0 close", streamsSeen)
                .isEmpty();
    }
}

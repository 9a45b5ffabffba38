package dev.ssekit.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The soak run (issue #9): holds CONNECTIONS subscribers on a hub process for MINUTES, churning
 * CHURN of them each second (half closed with a reset, half with a FIN, each replaced by a new
 * one), while EVENTS updates per second are POSTed. 100 sentinel subscribers are never churned:
 * each must receive every update. Every 30 s it has the hub collect garbage ({@code jcmd PID
 * GC.run}) and prints one line of the hub's gauges. Usage: {@code SoakLoad HOST:PORT PID CONNECTIONS
 * MINUTES CHURN EVENTS}; the hub runs with {@code --publisher-jwt-key} set to {@link HubBench#KEY}.
 */
public final class SoakLoad {

    private SoakLoad() {
    }

    public static void main(String[] args) throws Exception {
        String[] hp = args[0].split(":");
        InetSocketAddress hub = new InetSocketAddress(hp[0], Integer.parseInt(hp[1]));
        long pid = Long.parseLong(args[1]);
        int connections = Integer.parseInt(args[2]);
        long minutes = Long.parseLong(args[3]);
        int churn = Integer.parseInt(args[4]);
        int eventsPerSecond = Integer.parseInt(args[5]);
        String token = HubBench.hs256("{\"mercure\":{\"publish\":[\"bench\"]}}");
        Random random = new Random(42);

        Selector selector = Selector.open();
        List<FanOutLoad.Conn> sentinels = new ArrayList<>();
        List<FanOutLoad.Conn> churned = new ArrayList<>();
        int[] opened = {0};
        int octet = 1 + (int) (System.nanoTime() % 200);
        ByteBuffer buf = ByteBuffer.allocateDirect(256 * 1024);
        FanOutLoad.Tally tally = new FanOutLoad.Tally();
        for (int i = 0; i < connections; i++) {
            FanOutLoad.Conn c = open(selector, hub, octet, opened[0]++);
            (i < 100 ? sentinels : churned).add(c);
        }
        int heads = 0;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (heads < connections && System.nanoTime() < deadline) {
            heads += FanOutLoad.pump(selector, buf, tally);
        }
        System.out.printf("soak: %d subscribers (%d heads), %d min, churn %d/s, %d updates/s; hub pid %d%n",
                connections, heads, minutes, churn, eventsPerSecond, pid);
        System.out.println("| minute | subscribers (hub) | heap after GC (MB) | threads | open fds | published | delivered | evicted |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        sample(hub, pid, 0);

        AtomicLong published = new AtomicLong();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        URI publish = URI.create("http://" + args[0] + "/.well-known/mercure");
        Thread publisher = Thread.ofPlatform().daemon().start(() -> {
            long next = System.nanoTime();
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(publish).header("Authorization", "Bearer " + token)
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .POST(HttpRequest.BodyPublishers.ofString("topic=bench&data="
                                    + PeerServer.payload(System.nanoTime(), (int) published.get(), 30).replace(' ', '+'))).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        published.incrementAndGet();
                    } else {
                        System.out.println("publish answered " + r.statusCode() + ": " + r.body());
                    }
                    next += 1_000_000_000L / eventsPerSecond;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                } catch (IOException e) {
                    System.out.println("publish failed: " + e);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });

        long start = System.nanoTime();
        long end = start + TimeUnit.MINUTES.toNanos(minutes);
        long nextChurn = start + 1_000_000_000L;
        long nextSample = start + TimeUnit.SECONDS.toNanos(30);
        long resets = 0;
        while (System.nanoTime() < end) {
            FanOutLoad.pump(selector, buf, tally);
            long now = System.nanoTime();
            if (now >= nextChurn) {
                nextChurn += 1_000_000_000L;
                for (int k = 0; k < churn; k++) {
                    int victim = random.nextInt(churned.size());
                    FanOutLoad.Conn c = churned.get(victim);
                    if (k % 2 == 0) {
                        c.channel.setOption(StandardSocketOptions.SO_LINGER, 0); // abrupt: RST, no FIN
                        resets++;
                    }
                    c.channel.close();
                    churned.set(victim, open(selector, hub, octet, opened[0]++));
                }
            }
            if (now >= nextSample) {
                nextSample += TimeUnit.SECONDS.toNanos(30);
                sample(hub, pid, (now - start) / 60e9);
            }
        }
        publisher.interrupt();
        publisher.join();
        // let the last updates arrive
        long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < settle) {
            FanOutLoad.pump(selector, buf, tally);
            if (sentinels.stream().allMatch(c -> c.events >= published.get())) {
                break;
            }
        }
        long missing = 0;
        for (FanOutLoad.Conn c : sentinels) {
            missing += Math.max(0, published.get() - c.events);
        }
        System.out.printf("published %d updates; churned %d connections (%d with a reset); the 100 sentinels missed %d "
                + "deliveries in all%n", published.get(), (long) opened[0] - connections, resets, missing);
        for (FanOutLoad.Conn c : sentinels) {
            c.channel.close();
        }
        for (FanOutLoad.Conn c : churned) {
            c.channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            c.channel.close();
        }
        selector.selectNow(); // a registered channel's socket really closes when its key is flushed
        Thread.sleep(3000);
        sample(hub, pid, (System.nanoTime() - start) / 60e9);
        System.out.println("(last line: after every subscriber left)");
    }

    private static FanOutLoad.Conn open(Selector selector, InetSocketAddress hub, int octet, int n) throws IOException {
        SocketChannel ch = SocketChannel.open();
        ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        // a fresh source address per 10,000 connections: churn never runs out of ephemeral ports
        ch.bind(new InetSocketAddress("127." + octet + "." + (n / 10_000 % 250) + "." + (2 + n / 2_500_000), 0));
        ch.connect(hub);
        ch.write(ByteBuffer.wrap(("GET /.well-known/mercure?topic=bench HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
        ch.configureBlocking(false);
        FanOutLoad.Conn c = new FanOutLoad.Conn(ch);
        ch.register(selector, SelectionKey.OP_READ, c);
        return c;
    }

    private static void sample(InetSocketAddress hub, long pid, double minute) throws IOException, InterruptedException {
        Process gc = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid), "GC.run").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        gc.waitFor(30, TimeUnit.SECONDS);
        String m = FanOutLoad.get(hub, "/metrics");
        System.out.printf("| %.1f | %d | %.1f | %d | %d | %d | %d | %d |%n", minute, HubBench.value(m, "ssekit_connections"),
                HubBench.value(m, "jvm_memory_heap_used_bytes") / 1e6, HubBench.value(m, "jvm_threads_live"), HubBench.value(m, "process_open_fds"),
                HubBench.value(m, "ssekit_published_total"), HubBench.value(m, "ssekit_delivered_total"),
                m.lines().filter(l -> l.startsWith("ssekit_evictions_total{")).mapToLong(l -> Long.parseLong(l.substring(l.lastIndexOf(' ') + 1))).sum());
    }

}

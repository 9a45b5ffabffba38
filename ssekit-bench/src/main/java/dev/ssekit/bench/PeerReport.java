package dev.ssekit.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Turns bin/bench-peers' results (one TSV line per run) into the peers section of BENCHMARKS.md
 * (between {@code <!-- bench-peers:start -->} and {@code <!-- bench-peers:end -->}) and a PNG bar
 * chart. Usage: {@code PeerReport RESULTS.tsv BENCHMARKS.md CHART.png COMMIT MACHINE}.
 */
public final class PeerReport {

    private PeerReport() {
    }

    /**
     * One run: server, scenario label, connections, deliveries/s, missing, p50/p99/p99.9 ms, heap
     * B/conn, rate, storm seconds and lost deliveries, RSS B/conn, deliveries out of order.
     */
    record Run(String server, String label, int conns, long dps, String missing, double p50, double p99, double p999, long heap,
            int rate, String stormSeconds, String stormLost, long rss, String disorder) {
    }

    static final String START = "<!-- bench-peers:start -->";
    static final String END = "<!-- bench-peers:end -->";

    public static void main(String[] args) throws IOException {
        List<Run> runs = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            String[] f = line.split("\t");
            if (f.length < 10) {
                continue;
            }
            runs.add(new Run(f[0], f[1], Integer.parseInt(f[2]), Long.parseLong(f[3]), f[4], Double.parseDouble(f[5]),
                    Double.parseDouble(f[6]), Double.parseDouble(f[7]), Long.parseLong(f[8]), Integer.parseInt(f[9]),
                    f.length > 10 ? f[10] : "-", f.length > 11 ? f[11] : "-", f.length > 12 ? Long.parseLong(f[12]) : 0,
                    f.length > 13 ? f[13] : "?"));
        }
        Map<String, Map<String, Run>> by = new LinkedHashMap<>();
        for (Run r : runs) {
            by.computeIfAbsent(r.server(), k -> new LinkedHashMap<>()).put(r.label(), r);
        }
        String section = markdown(by, args[3], args[4]);
        Path md = Path.of(args[1]);
        String doc = Files.readString(md);
        int s = doc.indexOf(START);
        int e = doc.indexOf(END);
        doc = s >= 0 && e > s ? doc.substring(0, s) + section + doc.substring(e + END.length()) : doc + "\n" + section + "\n";
        Files.writeString(md, doc);
        chart(by, Path.of(args[2]), args[3].split(" ")[0]); // the commit alone: the title has one line
    }

    private static boolean peer(String server) {
        return !server.startsWith("ssekit-") && !server.equals("ceiling");
    }

    private static long best(Map<String, Map<String, Run>> by, String label, java.util.function.Predicate<String> which) {
        return by.entrySet().stream().filter(en -> which.test(en.getKey())).map(en -> en.getValue().get(label))
                .filter(java.util.Objects::nonNull).mapToLong(Run::dps).max().orElse(0);
    }

    static String markdown(Map<String, Map<String, Run>> by, String commit, String machine) {
        StringBuilder b = new StringBuilder(START).append('\n');
        b.append("## ssekit against the servers users pick, and the ceiling (issue #7): `bin/bench-peers`\n\n");
        b.append("Written by `bin/bench-peers` (commit ").append(commit).append("; ").append(machine).append("). Every server ")
                .append("serves one contract: `GET /sse` joins a single broadcast group, the control port publishes n events of ")
                .append("100 bytes; one load generator (`FanOutLoad`: a selector per reader thread, 2 here, non-blocking connects ")
                .append("from a fresh loopback source address per 10,000 connections) counts deliveries, missing events and events out ")
                .append("of order (every subscriber must see the same successor of each event; the data carries a sequence number) and ")
                .append("records publish-to-receive latency in an HDR histogram. `ceiling` is raw NIO writing pre-encoded bytes to ")
                .append("every socket; `ssekit-*` are ssekit's broadcaster on each adapter and the hub (through the Mercure protocol, ")
                .append("16 POSTs in flight on keep-alive connections from the hub's JVM). The peers, each written as its documentation shows, without ssekit: `jetty` Jetty 12 with ")
                .append("an async servlet (blocking write and flush per subscriber, as Spring's `SseEmitter` and most hand-written ")
                .append("servlets do), `undertow` Undertow 2.4's `ServerSentEventHandler`, `vertx` a Vert.x 5 chunked response per ")
                .append("subscriber, `helidon` Helidon 4 SE's `SseSink` (a virtual thread per subscriber taking from its own queue), ")
                .append("`better-sse` Node 20 with better-sse 0.16 (one channel). One run each, on 2 shared cores with the load ")
                .append("generator: compare orders of magnitude.\n\n");
        long bestPeer10k = best(by, "a-10k", PeerReport::peer);
        long ceiling10k = best(by, "a-10k", s -> s.equals("ceiling"));
        b.append("### (a) Throughput: deliveries/s, events published as fast as possible\n\n");
        b.append("| server | 1,000 subscribers (200 events) | 10,000 subscribers (500 events) | missing | vs best peer (10k) | vs ceiling (10k) |\n");
        b.append("|---|---|---|---|---|---|\n");
        for (var en : by.entrySet()) {
            Run a1 = en.getValue().get("a-1k");
            Run a10 = en.getValue().get("a-10k");
            b.append("| ").append(en.getKey()).append(" | ").append(a1 == null ? "-" : fmt(a1.dps())).append(" | ")
                    .append(a10 == null ? "-" : fmt(a10.dps())).append(" | ")
                    .append(a1 == null ? "-" : a1.missing()).append(" / ").append(a10 == null ? "-" : a10.missing()).append(" | ")
                    .append(a10 == null || bestPeer10k == 0 ? "-" : String.format(Locale.ROOT, "%.2f×", a10.dps() / (double) bestPeer10k))
                    .append(" | ")
                    .append(a10 == null || ceiling10k == 0 ? "-" : String.format(Locale.ROOT, "%.0f %%", 100.0 * a10.dps() / ceiling10k))
                    .append(" |\n");
        }
        b.append("\n![deliveries per second at 10,000 subscribers](docs/peers.png)\n\n");
        b.append("### (b) Latency, 10,000 subscribers: publish to receive\n\n");
        b.append("| server | at 1,000 events/s: p50 / p99 / p99.9 (ms) | deliveries/s reached | at 20 events/s: p50 / p99 / p99.9 (ms) | missing |\n");
        b.append("|---|---|---|---|---|\n");
        for (var en : by.entrySet()) {
            Run hi = en.getValue().get("b-10k-1000");
            Run lo = en.getValue().get("b-10k-20");
            b.append("| ").append(en.getKey()).append(" | ").append(lat(hi)).append(" | ").append(hi == null ? "-" : failed(hi) ? "-" : fmt(hi.dps()))
                    .append(" | ").append(lat(lo)).append(" | ").append(hi == null ? "-" : count(hi.missing())).append(" / ")
                    .append(lo == null ? "-" : count(lo.missing())).append(" |\n");
        }
        b.append("\n1,000 events/s to 10,000 subscribers asks for 10 M deliveries/s: more than 2 cores carry (the ceiling ")
                .append("included), so that column measures queueing under saturation. At 20 events/s (200,000 deliveries/s) the ")
                .append("servers keep up; the load generator shares the 2 cores with the server (each event arrives at 10,000 sockets ")
                .append("in separate reads), so the figures are upper bounds, fit for comparing the servers with each other. ")
                .append("Paced events carry the time they were due, so a server that holds the publisher up is charged for it.\n\n");
        b.append("### (c) Memory per idle connection at 10,000 connections\n\n");
        b.append("| server | heap per idle connection | RSS per idle connection |\n|---|---|---|\n");
        for (var en : by.entrySet()) {
            Run a10 = en.getValue().get("a-10k");
            b.append("| ").append(en.getKey()).append(" | ").append(a10 == null ? "-" : fmt(a10.heap()) + " B").append(" | ")
                    .append(a10 == null || a10.rss() == 0 ? "-" : a10.rss() < 0 ? "below the noise (RSS fell)" : fmt(a10.rss()) + " B").append(" |\n");
        }
        b.append("\nHeap: after a full GC with the connections idle, minus before, divided by the connections (Node: V8's heap ")
                .append("used). RSS: the server process's resident set (VmRSS) idle minus before, divided by the connections; it ")
                .append("includes what the JVM or V8 keeps for itself (a JVM does not hand heap back at once), so it is noisier ")
                .append("than the heap figure. Kernel socket buffers are in neither.\n");
        b.append("\n### (d) Dead clients: 1 % of 1,000 subscribers stop reading; 2 KB events at 50/s for 30 s\n\n");
        b.append("| server | healthy p50 / p99 / p99.9, no dead clients (ms) | the same with 10 dead clients (ms) | p99 ratio | ")
                .append("missing (healthy, of 1,485,000) |\n|---|---|---|---|---|\n");
        for (var en : by.entrySet()) {
            Run base = en.getValue().get("d-1k-base");
            Run dead = en.getValue().get("d-1k-dead");
            b.append("| ").append(en.getKey()).append(" | ").append(lat(base)).append(" | ").append(lat(dead)).append(" | ")
                    .append(base == null || dead == null ? "-" : deadRatio(base, dead)).append(" | ")
                    .append(dead == null ? "-" : count(dead.missing())).append(" |\n");
        }
        b.append("\nThe 10 dead clients have a 4 KiB receive buffer and stop reading once their response head is in; the ")
                .append("figures are the other 990's. Each dead client is sent 3 MB, more than the loopback socket buffers take ")
                .append("(about 2.7 MB measured here), so the server has to hold or drop the rest. 1,000 subscribers, not ")
                .append("10,000: 10,000 would ask for 1 GB/s of healthy traffic to get 3 MB to each dead client. A server that ")
                .append("writes to subscribers one after the other with blocking writes stalls ")
                .append("on the first full socket: then the healthy clients stop receiving (missing), until its idle timeout cuts ")
                .append("the dead one. ssekit queues per subscriber without blocking (up to `maxQueuedBytes`, 4 MiB here, then it ")
                .append("evicts).\n");
        b.append("\n").append(targets(by)).append("\n");
        b.append("\n### (e) Reconnect storm: 10,000 clients drop at once, 100 events are published, all reconnect at once with ")
                .append("`Last-Event-ID`\n\n| server | time until every client has the 100 it missed | deliveries lost (of 1,000,000) |\n|---|---|---|\n");
        for (var en : by.entrySet()) {
            Run e = en.getValue().get("e-10k");
            b.append("| ").append(en.getKey()).append(" | ").append(e == null ? "-" : e.stormLost().equals("0") ? e.stormSeconds() + " s"
                    : "never (no replay)").append(" | ").append(e == null ? "-" : e.stormLost().matches("\\d+")
                    ? fmt(Long.parseLong(e.stormLost())) : e.stormLost()).append(" |\n");
        }
        b.append("\nThe peers keep no history: resuming is left to the application, so everything published while a client ")
                .append("was away is lost to it. ssekit replays from its history (the hub through the Mercure protocol). The time ")
                .append("includes the load generator opening the 10,000 connections (non-blocking, at most 256 connects in flight ")
                .append("per reader thread).\n");
        b.append("\n### (f) A burst of 200 events published at once to 10,000 subscribers: time to the last delivery\n\n")
                .append("| server | time to the last delivery | deliveries/s | of the ceiling | missing |\n|---|---|---|---|---|\n");
        long ceilingBurst = best(by, "f-10k-burst", s -> s.equals("ceiling"));
        for (var en : by.entrySet()) {
            Run f = en.getValue().get("f-10k-burst");
            if (f == null || failed(f) || f.dps() <= 0) {
                b.append("| ").append(en.getKey()).append(" | - | - | - | ").append(f == null ? "-" : f.missing()).append(" |\n");
                continue;
            }
            b.append(String.format(Locale.ROOT, "| %s | %.3f s | %s | %s | %s |%n", en.getKey(), f.conns() * 200.0 / f.dps(), fmt(f.dps()),
                    ceilingBurst > 0 ? String.format(Locale.ROOT, "%.0f %%", 100.0 * f.dps() / ceilingBurst) : "-", f.missing()));
        }
        b.append("\nThe ceiling gets the burst as one list and writes it to each socket in one write; the servers publish ")
                .append("it event after event as fast as they can (the hub: 200 POSTs, 16 in flight). The time runs from the ")
                .append("publish request to the last delivery.\n");
        b.append("\n").append(targets15(by)).append("\n");
        long disorder = by.values().stream().flatMap(m -> m.values().stream()).filter(r -> r.disorder().matches("\\d+"))
                .mapToLong(r -> Long.parseLong(r.disorder())).sum();
        b.append("\nDeliveries out of order (a subscriber saw a successor other subscribers did not; across the storm's ")
                .append("reconnection too), all servers and runs: ").append(fmt(disorder)).append(".\n");
        List<String> failedRuns = by.values().stream().flatMap(m -> m.values().stream()).filter(PeerReport::failed)
                .map(r -> r.server() + " " + r.label()).toList();
        if (!failedRuns.isEmpty()) {
            b.append("\nRuns without a result (the server failed; `bin/bench-peers` printed its output): ")
                    .append(String.join(", ", failedRuns)).append(".\n");
        }
        return b.append(END).toString();
    }

    /** Issue #15's targets, met or not, from these figures. */
    static String targets15(Map<String, Map<String, Run>> by) {
        java.util.function.Predicate<String> ssekitTransport = s -> s.startsWith("ssekit-") && !s.equals("ssekit-hub");
        long ceiling = best(by, "a-10k", s -> s.equals("ceiling"));
        long bestPeer = best(by, "a-10k", PeerReport::peer);
        long bestSsekit = best(by, "a-10k", ssekitTransport);
        Run hub = by.getOrDefault("ssekit-hub", Map.of()).get("a-10k");
        Run netty = by.getOrDefault("ssekit-netty", Map.of()).get("a-10k");
        Run undertow = by.getOrDefault("undertow", Map.of()).get("a-10k");
        if (ceiling == 0 || bestPeer == 0 || bestSsekit == 0 || hub == null || netty == null || undertow == null) {
            return "Targets (issue #15): not enough servers measured to compare.";
        }
        double share = 100.0 * bestSsekit / ceiling;
        double hubOfNetty = 100.0 * hub.dps() / netty.dps();
        double hubOverPeer = hub.dps() / (double) bestPeer;
        double p99Peer = by.entrySet().stream().filter(en -> peer(en.getKey())).map(en -> en.getValue().get("b-10k-20"))
                .filter(r -> r != null && !failed(r)).mapToDouble(Run::p99).min().orElse(Double.NaN);
        double p99Worst = by.entrySet().stream().filter(en -> en.getKey().startsWith("ssekit-")).map(en -> en.getValue().get("b-10k-20"))
                .filter(r -> r != null && !failed(r)).mapToDouble(Run::p99).max().orElse(Double.NaN);
        return String.format(Locale.ROOT, "Targets (issue #15): best ssekit transport %.0f %% of the ceiling (≥ 70 %%: %s); the hub %.0f %% "
                + "of ssekit-netty (≥ 70 %%: %s) and %.2f× the best peer (≥ 1.5×: %s); ssekit-netty heap per idle connection %,d B "
                + "(≤ 2,560 B: %s) and RSS %,d B against Undertow's %,d B (no more: %s); p99 at 20 events/s, the slowest ssekit "
                + "server %.1f ms vs the best peer %.1f ms (no worse: %s).",
                share, share >= 70 ? "met" : "**not met**", hubOfNetty, hubOfNetty >= 70 ? "met" : "**not met**", hubOverPeer,
                hubOverPeer >= 1.5 ? "met" : "**not met**", netty.heap(), netty.heap() <= 2560 ? "met" : "**not met**", netty.rss(),
                undertow.rss(), netty.rss() <= undertow.rss() ? "met" : "**not met**", p99Worst, p99Peer,
                p99Worst <= p99Peer ? "met" : "**not met**");
    }

    /** Issue #7's targets for ssekit's best transport, met or not, from these figures. */
    static String targets(Map<String, Map<String, Run>> by) {
        java.util.function.Predicate<String> ssekitTransport = s -> s.startsWith("ssekit-") && !s.equals("ssekit-hub");
        var bestSsekit = by.entrySet().stream().filter(en -> ssekitTransport.test(en.getKey()) && en.getValue().get("a-10k") != null)
                .max(java.util.Comparator.comparingLong(en -> en.getValue().get("a-10k").dps()));
        long bestPeer = best(by, "a-10k", PeerReport::peer);
        long ceiling = best(by, "a-10k", s -> s.equals("ceiling"));
        if (bestSsekit.isEmpty() || bestPeer == 0 || ceiling == 0) {
            return "Targets: not enough servers measured to compare.";
        }
        Run top = bestSsekit.get().getValue().get("a-10k");
        double p99Ssekit = by.entrySet().stream().filter(en -> ssekitTransport.test(en.getKey())).map(en -> en.getValue().get("b-10k-20"))
                .filter(r -> r != null && !failed(r)).mapToDouble(Run::p99).min().orElse(Double.NaN);
        double p99Peer = by.entrySet().stream().filter(en -> peer(en.getKey())).map(en -> en.getValue().get("b-10k-20"))
                .filter(r -> r != null && !failed(r)).mapToDouble(Run::p99).min().orElse(Double.NaN);
        long heap = by.entrySet().stream().filter(en -> ssekitTransport.test(en.getKey()) && en.getValue().get("a-10k") != null)
                .mapToLong(en -> en.getValue().get("a-10k").heap()).min().orElse(-1);
        double ratio = top.dps() / (double) bestPeer;
        double share = 100.0 * top.dps() / ceiling;
        Map<String, Run> topRuns = bestSsekit.get().getValue();
        Run base = topRuns.get("d-1k-base");
        Run dead = topRuns.get("d-1k-dead");
        String deadClients = base == null || dead == null ? "not measured"
                : String.format(Locale.ROOT, "%s (≤ 2×: %s)", deadRatio(base, dead),
                        "0".equals(dead.missing()) && dead.p99() <= 2 * base.p99() ? "met" : "**not met**");
        return String.format(Locale.ROOT, "Targets (issue #7), ssekit's best transport at 10,000 subscribers (%s): %.2f× the best peer's "
                + "deliveries/s (≥ 1.5×: %s); %.0f %% of the ceiling (≥ 70 %%: %s); p99 at 20 events/s, best ssekit transport %.1f ms "
                + "vs best peer %.1f ms (no worse: %s); least heap per idle connection of an ssekit transport %,d B (≤ 4 KB: %s); "
                + "healthy clients' p99 with 1 %% dead clients over without, %s: %s.",
                bestSsekit.get().getKey(), ratio, ratio >= 1.5 ? "met" : "**not met**", share, share >= 70 ? "met" : "**not met**",
                p99Ssekit, p99Peer, p99Ssekit <= p99Peer ? "met" : "**not met**", heap, heap <= 4096 ? "met" : "**not met**",
                bestSsekit.get().getKey(), deadClients);
    }

    /** The dead-client run's p99 over the baseline's; a run that lost deliveries has no meaningful p99. */
    private static String deadRatio(Run base, Run dead) {
        if (failed(base) || failed(dead)) {
            return "no result";
        }
        if (!"0".equals(dead.missing())) {
            return "stalled";
        }
        return String.format(Locale.ROOT, "%.2f×", dead.p99() / base.p99());
    }

    /** A run that delivered nothing: the server crashed or never answered (bin/bench-peers prints its output). */
    private static boolean failed(Run r) {
        return r != null && r.dps() == 0;
    }

    private static String lat(Run r) {
        return r == null ? "-" : failed(r) ? "no result: server failed" : String.format(Locale.ROOT, "%.1f / %.1f / %.1f", r.p50(), r.p99(), r.p999());
    }

    private static String count(String n) {
        return n.matches("\\d+") ? fmt(Long.parseLong(n)) : n;
    }

    private static String fmt(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    static void chart(Map<String, Map<String, Run>> by, Path png, String commit) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Map.Entry<String, Long>> bars = new ArrayList<>();
        for (var en : by.entrySet()) {
            Run r = en.getValue().get("a-10k");
            if (r != null) {
                bars.add(Map.entry(en.getKey(), r.dps()));
            }
        }
        int w = 900;
        int h = 80 + bars.size() * 44;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.DARK_GRAY);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString("Deliveries per second, 10,000 subscribers, 100-byte events (commit " + commit + ")", 20, 30);
        long max = bars.stream().mapToLong(Map.Entry::getValue).max().orElse(1);
        int left = 170;
        int right = w - 150;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        int y = 60;
        for (var bar : bars) {
            String name = bar.getKey();
            g.setColor(Color.DARK_GRAY);
            g.drawString(name, 20, y + 20);
            int len = (int) ((right - left) * (bar.getValue() / (double) max));
            g.setColor(name.equals("ceiling") ? new Color(150, 150, 150) : name.startsWith("ssekit-") ? new Color(40, 110, 200)
                    : new Color(230, 140, 40));
            g.fillRect(left, y + 4, Math.max(1, len), 24);
            g.setColor(Color.DARK_GRAY);
            g.drawString(fmt(bar.getValue()), left + len + 8, y + 21);
            y += 44;
        }
        g.setStroke(new BasicStroke(1));
        g.drawLine(left, 50, left, h - 16);
        g.dispose();
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(img, "png", png.toFile());
    }
}

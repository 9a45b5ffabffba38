package dev.ssekit.examples;

import dev.ssekit.Broadcaster;
import dev.ssekit.Sse;
import dev.ssekit.SseMessage;
import dev.ssekit.redis.RedisEventLog;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * The README's Redis sample, runnable: start it twice (on ports 8081 and 8082, say) against one
 * Redis, {@code curl -N http://127.0.0.1:8081/prices}, and each node's ticks reach both.
 * Usage: {@code RedisSample [redis://127.0.0.1:6379] [PORT]}.
 */
public class RedisSample {
    public static void main(String[] args) throws Exception {
        String uri = args.length > 0 ? args[0] : "redis://127.0.0.1:6379";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 8081;
        // readme:redis:start
        RedisEventLog redis = RedisEventLog.builder(uri).history(100_000, 256L << 20, Duration.ofDays(1)).build();
        Broadcaster local = Broadcaster.builder().log(redis).build();
        local.publishAsync(SseMessage.of("{\"price\":12.5}"), List.of("prices/ACME"), false)   // every node's subscribers get it
                .thenAccept(id -> System.out.println("stored as " + id));
        // readme:redis:end
        var server = com.sun.net.httpserver.HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/prices", ex -> local.subscribe(Sse.start(ex), "prices/ACME"));
        server.start();
        for (int i = 0; ; i++) {
            Thread.sleep(1000);
            local.publishAsync(SseMessage.of("{\"tick\":" + i + ",\"node\":" + port + "}"), List.of("prices/ACME"), false);
        }
    }
}

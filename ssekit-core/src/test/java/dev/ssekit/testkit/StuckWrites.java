package dev.ssekit.testkit;

import dev.ssekit.Broadcaster;
import dev.ssekit.SseMessage;
import dev.ssekit.Subscription;

/** Drives a subscriber whose client does not read until one of its writes is stuck. */
public final class StuckWrites {

    private StuckWrites() {
    }

    /**
     * Publishes large events to the topic until the subscriber's queue stops draining for 100 ms
     * (socket buffers on loopback absorb megabytes first).
     *
     * @param hub the broadcaster
     * @param sub the subscription of a client that does not read
     * @param topic a topic the subscription receives
     * @return whether a write got stuck within 500 events of 1 MiB
     * @throws InterruptedException if interrupted
     */
    public static boolean publishUntilStuck(Broadcaster hub, Subscription sub, String topic) throws InterruptedException {
        String chunk = "z".repeat(1024 * 1024);
        for (int i = 0; i < 500; i++) {
            hub.publish(SseMessage.of(chunk), topic);
            long queued = sub.queuedBytes();
            if (queued > 0) {
                Thread.sleep(100);
                if (sub.queuedBytes() == queued) {
                    return true;
                }
            }
        }
        return false;
    }
}

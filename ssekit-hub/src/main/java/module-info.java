/**
 * ssekit hub: a publish/subscribe hub speaking the Mercure protocol. Work in progress (issue #6):
 * so far publish and subscribe over HTTP/1.1 with JWT authorization, topic selectors, private
 * updates and resumption; nothing is exported yet.
 */
module dev.ssekit.hub {
    requires dev.ssekit;
    requires dev.ssekit.netty;
    requires io.netty.codec.http;
    requires io.netty.transport;
    requires io.netty.common;
    requires io.netty.buffer;
    requires com.fasterxml.jackson.jr.ob;

    exports dev.ssekit.hub;
}

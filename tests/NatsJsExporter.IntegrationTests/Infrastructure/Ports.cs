using System.Net;
using System.Net.Sockets;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

public static class Ports
{
    private static readonly HashSet<int> Handed = [];

    /// <summary>A free TCP port on 127.0.0.1, never the same one twice in this process.</summary>
    public static int Free()
    {
        lock (Handed)
        {
            while (true)
            {
                var l = new TcpListener(IPAddress.Loopback, 0);
                l.Start();
                int port = ((IPEndPoint)l.LocalEndpoint).Port;
                l.Stop();
                if (Handed.Add(port)) return port;
            }
        }
    }
}

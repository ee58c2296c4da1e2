using System.Runtime.InteropServices;

namespace NatsJsExporter.IntegrationTests.Infrastructure;

internal static partial class Signals
{
    public const int SIGINT = 2; // Ctrl-C
    public const int SIGKILL = 9;
    public const int SIGUSR2 = 12; // nats-server: enter lame duck mode
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int sig);

    public static void Send(int pid, int signal)
    {
        if (SysKill(pid, signal) != 0)
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }
}

namespace Dmh.Platform.Hosting;

/// <summary>
/// Runs socket completions on the socket engine's thread instead of handing each one to the thread
/// pool, for processes whose continuations only wait on the network and never block. The hand-off
/// wakes a pool thread per completion; on the 2-core box at 500 payments/s it was most of
/// Settlement's context switches (38 per payment, 8-10 inline) and a third of its CPU (perf/README.md).
/// A blocking continuation would stall every socket of the process, so Ingress, which renders
/// posters and hashes passwords, keeps .NET's default.
/// </summary>
public static class InlineSocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Call first in Main: .NET reads the variable once, when the first socket is made. An explicit
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0</c> in the environment keeps the default.
    /// </summary>
    public static void EnableUnlessConfigured()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }
}

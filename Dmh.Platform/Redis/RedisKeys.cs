using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Platform.Redis;

/// <summary>Turns logical key names (e.g. <see cref="Dmh.Contracts.StreamNames.Payments"/>) into the keys used on the server.</summary>
public sealed class RedisKeys(IOptions<RedisOptions> options)
{
    private readonly string _prefix = options.Value.KeyPrefix;

    public RedisKey For(string name) => _prefix + name;
}

using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace NatsJsExporter.Hosting;

public sealed class BasicAuthenticationOptions : AuthenticationSchemeOptions
{
    public string Realm { get; set; } = WebSecurity.Realm;
}

/// <summary>
/// HTTP basic auth against the web config's basic_auth_users (bcrypt). A request without credentials
/// or with wrong ones gets 401 with a Basic challenge. Neither user names nor passwords are logged:
/// the failure message is the same for every cause.
/// </summary>
public sealed class BasicAuthenticationHandler(
    IOptionsMonitor<BasicAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder, BasicAuthChecker checker)
    : AuthenticationHandler<BasicAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "Basic";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0) return Task.FromResult(AuthenticateResult.NoResult());
        if (checker.Authenticate(header) is not { } user) return Task.FromResult(AuthenticateResult.Fail("basic auth credentials not accepted"));
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, user)], Scheme.Name));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"Basic realm=\"{Options.Realm}\", charset=\"UTF-8\"";
        Response.ContentType = "text/plain; charset=utf-8";
        await Response.WriteAsync("Unauthorized\n");
    }
}

/// <summary>
/// Checks "Basic base64(user:password)" against bcrypt hashes. bcrypt is slow on purpose (tens of
/// milliseconds), so a successful check is remembered by a SHA-256 of the header (never the
/// password itself); an unknown user costs the same as a wrong password.
/// </summary>
public sealed class BasicAuthChecker(IReadOnlyDictionary<string, string> users)
{
    private const int MaxCached = 1024;
    // A valid hash of a random password, so unknown users take as long as known ones.
    private static readonly string Dummy = BCrypt.Net.BCrypt.HashPassword(Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)), 10);
    private readonly ConcurrentDictionary<string, string> _good = new(StringComparer.Ordinal);

    public bool Check(string authorization) => Authenticate(authorization) is not null;

    /// <summary>The user the header proves, or null.</summary>
    public string? Authenticate(string authorization)
    {
        if (!authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        var token = authorization[6..].Trim();
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        if (_good.TryGetValue(key, out var cached)) return cached;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            return null;
        }
        int colon = decoded.IndexOf(':');
        if (colon < 0) return null;
        var user = decoded[..colon];
        var password = decoded[(colon + 1)..];
        bool known = users.TryGetValue(user, out var hash);
        bool ok;
        try
        {
            ok = BCrypt.Net.BCrypt.Verify(password, known ? hash : Dummy) && known;
        }
        catch (BCrypt.Net.SaltParseException)
        {
            ok = false;
        }
        if (!ok) return null;
        if (_good.Count >= MaxCached) _good.Clear();
        _good[key] = user;
        return user;
    }
}

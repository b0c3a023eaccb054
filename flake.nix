{
  description = "po, the project orchestrator: GitOps for a fleet of AI-agent projects";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      # Node 24, the current LTS, for the shell and the package alike.
      devShells = forAll (pkgs: {
        default = pkgs.mkShell {
          packages = [ pkgs.nodejs_24 pkgs.tmux pkgs.git ];
        };
      });

      # Built from package-lock.json with importNpmLock: no npmDepsHash to keep in step.
      packages = forAll (pkgs: {
        default = pkgs.buildNpmPackage {
          pname = "po";
          version = (builtins.fromJSON (builtins.readFile ./package.json)).version;
          src = ./.;
          nodejs = pkgs.nodejs_24;
          npmDeps = pkgs.importNpmLock { npmRoot = ./.; };
          npmConfigHook = pkgs.importNpmLock.npmConfigHook;
          npmBuildScript = "build";
          nativeBuildInputs = [ pkgs.makeWrapper ];
          postInstall = ''
            wrapProgram $out/bin/po --prefix PATH : ${pkgs.lib.makeBinPath [ pkgs.tmux pkgs.git ]}
          '';
        };
      });
    };
}

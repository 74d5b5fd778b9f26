#!/usr/bin/env bash
# A small real MD trajectory for `npm run bench` (workload "water", issue 15):
# SPC water (OPLS-AA), 510 molecules = 1,530 atoms in a 2.5 nm box, 1,000 frames
# of positions and forces (every step of 2 fs), made with Debian's `gromacs`
# (apt-get install gromacs). Usage: make-water.sh OUTDIR [FRAMES]
# Writes OUTDIR/water.trr and OUTDIR/topol.tpr (plus the inputs and logs).
# bench/lib/water.ts runs it once and caches what it extracts; it is safe to rerun.
set -euo pipefail

out=${1:?usage: make-water.sh OUTDIR [FRAMES]}
frames=${2:-1000}
molecules=510
command -v gmx >/dev/null || { echo "make-water.sh: gmx not found (Debian package gromacs)" >&2; exit 3; }
mkdir -p "$out"
cd "$out"

# Equilibrated SPC water from GROMACS's own spc216.gro, cut to exactly $molecules molecules.
gmx -quiet solvate -cs spc216.gro -box 2.5 2.5 2.5 -maxsol "$molecules" -o water.gro >solvate.log 2>&1

cat >topol.top <<TOP
#include "oplsaa.ff/forcefield.itp"
#include "oplsaa.ff/spc.itp"

[ system ]
SPC water, $molecules molecules

[ molecules ]
SOL $molecules
TOP

# Relax the contacts left where the 1.86 nm spc216 cube was cut to fill 2.5 nm (steepest descent),
# so the saved run starts near equilibrium instead of hot.
cat >em.mdp <<MDP
integrator      = steep
nsteps          = 500
emtol           = 500
cutoff-scheme   = Verlet
coulombtype     = PME
rcoulomb        = 1.0
rvdw            = 1.0
pbc             = xyz
MDP
gmx -quiet grompp -f em.mdp -c water.gro -p topol.top -o em.tpr >grompp-em.log 2>&1
gmx -quiet mdrun -nt 2 -s em.tpr -c em.gro -g em.log -e em.edr -o em.trr >mdrun-em.log 2>&1

# Minimal NVT run: PME electrostatics, v-rescale thermostat at 300 K, SETTLE-rigid water;
# positions and forces written every step, nothing else (no velocities, no compressed xtc).
cat >md.mdp <<MDP
integrator      = md
dt              = 0.002
nsteps          = $((frames - 1))
nstxout         = 1
nstvout         = 0
nstfout         = 1
nstlog          = 100
nstenergy       = 100
nstxout-compressed = 0
cutoff-scheme   = Verlet
rlist           = 1.0
coulombtype     = PME
rcoulomb        = 1.0
rvdw            = 1.0
tcoupl          = v-rescale
tc-grps         = System
tau_t           = 0.1
ref_t           = 300
gen_vel         = yes
gen_temp        = 300
gen_seed        = 42
pbc             = xyz
MDP

gmx -quiet grompp -f md.mdp -c em.gro -p topol.top -o topol.tpr >grompp.log 2>&1
gmx -quiet mdrun -nt 2 -s topol.tpr -o water.trr -g md.log -e ener.edr -c confout.gro >mdrun.log 2>&1
echo "make-water.sh: wrote $out/water.trr ($frames frames) and $out/topol.tpr"
